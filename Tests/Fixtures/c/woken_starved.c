// A thread woken but kept off the CPU on purpose: the fixture of the reuse rule's one
// state change that needs no CPU (docs/recording.md, "Cost proportional to activity").
// Two processes, so that the one keeping the CPU busy is not the recorded one (a ptrace
// stop of a recorded hog would give the CPU away):
//
//   woken_starved cpu           prints "CPU COUNT": the highest CPU it may run on, and how
//       many it may (the test's choice of the CPU to keep busy).
//   woken_starved sleeper CPU   (recorded) a thread "starved", pinned to CPU, blocks in
//       wait_in_read() reading a pipe; main prints "ready PID" and waits for SIGUSR1, then
//       writes to the pipe (waking "starved"), waits for it and prints "starved_ms=N": from
//       the write to the moment "starved" returned from read().
//   woken_starved hog CPU SECONDS   (not recorded) pins itself to CPU, becomes real-time
//       (SCHED_FIFO: a normal thread on that CPU gets no time while it computes), prints
//       "hogging" and computes for SECONDS. Without the right to SCHED_FIFO (root or
//       RLIMIT_RTPRIO) it prints "no-fifo" and ends.
//
// Woken while the hog computes, "starved" is runnable but does not run: its /proc
// schedstat does not move, only its state says it was woken. Both end by themselves.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static int wake_pipe[2];
static uint64_t ran_ns;
static int cpu;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int pin(int which) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(which, &one);
    return sched_setaffinity(0, sizeof one, &one);  // this thread
}

__attribute__((noinline)) static void wait_in_read(void) {
    char c;
    if (read(wake_pipe[0], &c, 1) < 0) perror("read");
    ran_ns = now_ns();
    __asm__ volatile("" ::: "memory");
}

static void *starved(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "starved");
    if (pin(cpu) != 0) perror("sched_setaffinity");
    wait_in_read();
    return NULL;
}

static volatile uint64_t sink;

__attribute__((noinline)) static void compute_until(uint64_t end) {
    uint64_t x = 88172645463325252ull;
    while (now_ns() < end) {
        for (int i = 0; i < 10000; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; }
        sink = x;
    }
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "cpu") == 0) {
        // The highest CPU this process may run on, and how many it may: "CPU COUNT".
        cpu_set_t allowed;
        if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
        int last = -1;
        for (int i = 0; i < CPU_SETSIZE; i++) if (CPU_ISSET(i, &allowed)) last = i;
        printf("%d %d\n", last, CPU_COUNT(&allowed));
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "sleeper") == 0) {
        cpu = atoi(argv[2]);
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);  // inherited: only sigwait takes it
        if (pipe(wake_pipe) != 0) return 1;
        pthread_t t;
        pthread_create(&t, NULL, starved, NULL);
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        int sig;
        sigwait(&usr1, &sig);
        uint64_t woken = now_ns();
        if (write(wake_pipe[1], "x", 1) != 1) return 1;
        pthread_join(t, NULL);
        printf("starved_ms=%llu\n", (unsigned long long)((ran_ns - woken) / 1000000));
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "hog") == 0) {
        double seconds = atof(argv[3]);
        if (seconds <= 0 || seconds > 5) return 2;
        if (pin(atoi(argv[2])) != 0) { perror("sched_setaffinity"); return 1; }
        struct sched_param fifo = {.sched_priority = 1};
        if (sched_setscheduler(0, SCHED_FIFO, &fifo) != 0) {
            printf("no-fifo\n");
            return 0;
        }
        printf("hogging\n");
        fflush(stdout);
        compute_until(now_ns() + (uint64_t)(seconds * 1e9));
        return 0;
    }
    fprintf(stderr, "usage: woken_starved cpu | woken_starved sleeper CPU | woken_starved hog CPU SECONDS\n");
    return 2;
}
