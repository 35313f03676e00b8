// Soak target: keeps about ALIVE threads alive at once, each living 100-400 ms (sleeping,
// with a little spinning) before it exits and is replaced, and forks a short-lived child
// every 50 ms, for SECONDS. At the end it waits for every thread and child and writes
// how many it created to COUNTS-FILE (and stdout):
//   threads=N children=M peak_alive=K
// Usage: churn SECONDS ALIVE COUNTS-FILE
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_int alive;
static atomic_int peak;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void spin(double seconds) {
    double end = now() + seconds;
    volatile unsigned long x = 0;
    while (now() < end) x++;
}

__attribute__((noinline)) static void *churn_worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    long ms = 100 + rand_r(&seed) % 300;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    spin(0.0005);
    nanosleep(&ts, NULL);
    spin(0.0005);
    atomic_fetch_sub(&alive, 1);
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 10;
    int target = argc > 2 ? atoi(argv[2]) : 200;
    const char *counts = argc > 3 ? argv[3] : NULL;
    long threads = 0, children = 0, reaped = 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    double end = now() + seconds, next_fork = now();
    while (now() < end) {
        while (atomic_load(&alive) < target) {
            pthread_t t;
            atomic_fetch_add(&alive, 1);
            if (pthread_create(&t, &attr, churn_worker, (void *)(uintptr_t)(threads * 2654435761u)) != 0) {
                atomic_fetch_sub(&alive, 1);
                break;
            }
            threads++;
            int a = atomic_load(&alive), p = atomic_load(&peak);
            if (a > p) atomic_store(&peak, a);
        }
        if (now() >= next_fork) {
            next_fork += 0.05;
            pid_t pid = fork();
            if (pid == 0) { spin(0.002); _exit(0); }
            if (pid > 0) children++;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0) reaped++;
        usleep(2000);
    }
    while (atomic_load(&alive) > 0) usleep(1000);
    while (reaped < children && waitpid(-1, NULL, 0) > 0) reaped++;
    char line[128];
    snprintf(line, sizeof line, "threads=%ld children=%ld peak_alive=%d\n", threads, children, atomic_load(&peak));
    fputs(line, stdout);
    if (counts) { FILE *f = fopen(counts, "w"); if (f) { fputs(line, f); fclose(f); } }
    return 0;
}
