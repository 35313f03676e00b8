// A request/response pair over a Unix socket, server and client pinned to different CPUs:
// the fixture of observer bias (docs/analysis.md, "Observer bias").
//
// Usage: pingpong SECONDS SERVER_CPU CLIENT_CPU WORK_US
// - The server (this process, pinned to SERVER_CPU) waits for a request in epoll_wait,
//   spins WORK_US microseconds of CPU per request in serve(), and answers.
// - The client (a forked child, pinned to CLIENT_CPU) sends requests back to back, four
//   in flight, as redis-benchmark does.
// A sampler sharing CLIENT_CPU preempts the client when it wakes; the server drains what
// is in flight in microseconds and is back in epoll_wait when it is read — it looks idle
// while it uses a large share of its CPU. Prints "server PID" once both run; ends by
// itself after SECONDS.
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static volatile unsigned long sink;

__attribute__((noinline)) static void serve(double work_us) {
    double end = now() + work_us / 1e6;
    unsigned long x = 1;
    while (now() < end) {
        for (int i = 0; i < 200; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    }
    sink = x;
}

__attribute__((noinline)) static void client(int fd, double until) {
    char buf[64] = {0};
    for (int i = 0; i < 4; i++) (void)!write(fd, buf, 16);
    while (now() < until) {
        if (read(fd, buf, 16) <= 0) break;
        if (write(fd, buf, 16) <= 0) break;
    }
    _exit(0);
}

__attribute__((noinline)) static void server_loop(int fd, double until, double work_us) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    char buf[64];
    while (now() < until) {
        struct epoll_event out;
        int n = epoll_wait(ep, &out, 1, 100);
        if (n <= 0) continue;
        if (read(fd, buf, 16) <= 0) break;
        serve(work_us);
        if (write(fd, buf, 16) <= 0) break;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: pingpong SECONDS SERVER_CPU CLIENT_CPU WORK_US\n");
        return 2;
    }
    double seconds = atof(argv[1]), work_us = atof(argv[4]);
    int server_cpu = atoi(argv[2]), client_cpu = atoi(argv[3]);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); return 1; }
    double until = now() + seconds;
    pid_t child = fork();
    if (child == 0) {
        close(sv[0]);
        pin(client_cpu);
        client(sv[1], until);
    }
    close(sv[1]);
    pin(server_cpu);
    printf("server %d\n", (int)getpid());
    fflush(stdout);
    server_loop(sv[0], until, work_us);
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    return 0;
}
