// Many threads, few of them working: the shape of issue 13's "cost grows with threads,
// not with activity". THREADS threads in all; BUSY of them each do WORK units of fixed
// CPU work (xorshift steps); the others wait on one condition variable — forever
// (WAKE_MS=0) or waking every WAKE_MS milliseconds (timed wait) and going back to wait.
// The idle threads are all started and blocked before the timed part begins.
//
// Usage: idle_threads THREADS BUSY WORK [WAKE_MS]
// Prints "work_ns=N" and, with FORKCAST_BENCH_RESULT=PATH set, appends one JSON line:
//   {"program":"idle_threads","work_ns":...,"cpu_ns":...,"threads":...,"busy":...}
// work_ns: from just before the busy threads start to just after they are joined
// (CLOCK_MONOTONIC), so thread creation and the profiler's start and end are not in it.
// Ends by itself: the idle threads are released after the work.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;
static int waiting = 0;
static int done = 0;
static long wake_ms = 0;
static long work_units = 0;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((noinline)) static uint64_t mix(uint64_t x, int steps) {
    for (int i = 0; i < steps; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

__attribute__((noinline)) static void *busy_worker(void *arg) {
    uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
    for (long i = 0; i < work_units; i++) x = mix(x, 1000);
    return (void *)(uintptr_t)(x & 0xffff);
}

__attribute__((noinline)) static void *idle_worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    waiting++;
    pthread_cond_signal(&ready);
    while (!done) {
        if (wake_ms > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += wake_ms / 1000;
            ts.tv_nsec += (wake_ms % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
            pthread_cond_timedwait(&wake, &lock, &ts);
        } else {
            pthread_cond_wait(&wake, &lock);
        }
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: idle_threads THREADS BUSY WORK [WAKE_MS]\n");
        return 2;
    }
    int threads = atoi(argv[1]), busy = atoi(argv[2]);
    work_units = atol(argv[3]);
    wake_ms = argc > 4 ? atol(argv[4]) : 0;
    if (threads < 1 || threads > 10000 || busy < 0 || busy > threads || work_units < 0 || wake_ms < 0) {
        fprintf(stderr, "idle_threads: bad arguments\n");
        return 2;
    }
    int idle = threads - busy;
    pthread_t *t = calloc((size_t)threads, sizeof(pthread_t));
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    for (int i = 0; i < idle; i++) {
        if (pthread_create(&t[busy + i], &attr, idle_worker, NULL) != 0) {
            fprintf(stderr, "idle_threads: pthread_create failed at %d\n", i);
            return 1;
        }
    }
    pthread_mutex_lock(&lock);
    while (waiting < idle) pthread_cond_wait(&ready, &lock);
    pthread_mutex_unlock(&lock);

    uint64_t began = now_ns();
    for (int i = 0; i < busy; i++) pthread_create(&t[i], &attr, busy_worker, (void *)(uintptr_t)(i + 1));
    uint64_t check = 0;
    for (int i = 0; i < busy; i++) {
        void *ret;
        pthread_join(t[i], &ret);
        check += (uint64_t)(uintptr_t)ret;
    }
    uint64_t work = now_ns() - began;

    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    for (int i = 0; i < idle; i++) pthread_join(t[busy + i], NULL);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t cpu = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
                   (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
    printf("work_ns=%llu check=%llu\n", (unsigned long long)work, (unsigned long long)check);
    const char *out = getenv("FORKCAST_BENCH_RESULT");
    if (out) {
        FILE *f = fopen(out, "a");
        if (f) {
            fprintf(f, "{\"program\":\"idle_threads\",\"work_ns\":%llu,\"cpu_ns\":%llu,\"threads\":%d,\"busy\":%d}\n",
                    (unsigned long long)work, (unsigned long long)cpu, threads, busy);
            fclose(f);
        }
    }
    free(t);
    return 0;
}
