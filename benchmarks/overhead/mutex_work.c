// Fixed-work mutex contention, for the overhead benchmark: THREADS threads each do
// ROUNDS rounds of { lock; a short critical section of real CPU work on shared state;
// unlock; a little CPU work outside the lock }. The work is fixed, so how long it takes
// is what a profiler's overhead changes: slowdown = work time profiled / unprofiled.
//
// Usage: mutex_work [rounds] [threads]
// With FORKCAST_BENCH_RESULT=PATH set, appends one JSON line to PATH:
//   {"program":"mutex_work","work_ns":...,"cpu_ns":...,"voluntary_switches":...,
//    "involuntary_switches":...,"check":...}
// (CPU time and context switches are the whole process's.)
// work_ns is from just before the threads start to just after they are joined
// (CLOCK_MONOTONIC), so profiler start-up and shut-down are not counted.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#define INSIDE_STEPS 400    // ~1 µs of dependent arithmetic with the lock held
#define OUTSIDE_STEPS 400   // about as much outside it, so the lock stays contended

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t shared_state = 88172645463325252ull;
static long rounds_per_thread;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

// xorshift64 steps: cheap, dependent, not optimizable away.
__attribute__((noinline)) static uint64_t mix(uint64_t x, int steps) {
    for (int i = 0; i < steps; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

__attribute__((noinline)) static void critical_section(void) {
    shared_state = mix(shared_state, INSIDE_STEPS);
}

__attribute__((noinline)) static void *mutex_worker(void *arg) {
    uint64_t local = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    for (long r = 0; r < rounds_per_thread; r++) {
        pthread_mutex_lock(&lock);
        critical_section();
        pthread_mutex_unlock(&lock);
        local = mix(local, OUTSIDE_STEPS);
    }
    return (void *)(uintptr_t)(local & 0xffff);
}

int main(int argc, char **argv) {
    rounds_per_thread = argc > 1 ? atol(argv[1]) : 200000;
    int n = argc > 2 ? atoi(argv[2]) : 4;
    if (rounds_per_thread <= 0 || n <= 0 || n > 64) {
        fprintf(stderr, "usage: mutex_work [rounds>0] [threads 1..64]\n");
        return 2;
    }
    pthread_t t[64];
    uint64_t began = now_ns();
    for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, mutex_worker, (void *)(uintptr_t)(i + 1));
    uint64_t check = 0;
    for (int i = 0; i < n; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        check += (uint64_t)(uintptr_t)ret;
    }
    uint64_t work = now_ns() - began;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
                   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
    const char *out = getenv("FORKCAST_BENCH_RESULT");
    if (out && *out) {
        FILE *f = fopen(out, "a");
        if (f) {
            fprintf(f,
                    "{\"program\":\"mutex_work\",\"work_ns\":%llu,\"cpu_ns\":%llu,"
                    "\"voluntary_switches\":%ld,\"involuntary_switches\":%ld,\"check\":%llu}\n",
                    (unsigned long long)work, (unsigned long long)cpu, ru.ru_nvcsw, ru.ru_nivcsw,
                    (unsigned long long)(check ^ shared_state));
            fclose(f);
        }
    }
    printf("mutex_work: %d threads x %ld rounds in %.3f s\n", n, rounds_per_thread, work / 1e9);
    return 0;
}
