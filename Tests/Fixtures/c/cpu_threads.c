// CPU-bound threads that end by themselves, and the same loop as a "burner" process to
// keep a machine's cores busy from outside a recording (docs/analysis.md, "Other
// programs on the machine"):
//
//   cpu_threads N SECONDS     N threads, each computing for SECONDS of wall time, joined by main.
//   cpu_threads burn SECONDS  one process computing for SECONDS (not recorded: the load
//                             other programs put on the machine).
//
// Pure computation, no locks, no I/O: a thread is on a CPU or runnable, nothing else.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void *compute(void *arg) {
    (void)arg;
    double end = now() + seconds;
    volatile unsigned long x = 0;
    while (now() < end) {
        for (unsigned long i = 0; i < 200000; i++) x += i * i;
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: cpu_threads N|burn SECONDS\n");
        return 2;
    }
    seconds = atof(argv[2]);
    if (strcmp(argv[1], "burn") == 0) {
        compute(NULL);
        return 0;
    }
    int n = atoi(argv[1]);
    if (n < 1 || n > 256) return 2;
    pthread_t threads[256];
    for (int i = 0; i < n; i++) pthread_create(&threads[i], NULL, compute, NULL);
    for (int i = 0; i < n; i++) pthread_join(threads[i], NULL);
    return 0;
}
