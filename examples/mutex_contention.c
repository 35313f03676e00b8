/*
 * A C program with pthread mutex contention: N threads take one mutex and hold it across
 * a 2 ms sleep (the slow part inside the critical section), then do a little work outside.
 *
 * Forkcast should conclude: a hot pthread mutex (futex address, taken in worker(), holder
 * in the same function) dominates → "fix this lock first"; more threads only queue.
 *
 *   cc -O2 -g -pthread -o mutex_contention mutex_contention.c
 *   ./mutex_contention --threads 4 --rounds 150
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int rounds = 150;
static long hold_us = 2000;

static void __attribute__((noinline)) outside_work(void) {
    volatile unsigned x = 1;
    for (int i = 0; i < 20000; i++) x = x * 1664525u + 1013904223u;
}

static void *worker(void *arg) {
    (void)arg;
    struct timespec hold = {0, hold_us * 1000};
    for (int i = 0; i < rounds; i++) {
        pthread_mutex_lock(&lock);
        counter++;
        nanosleep(&hold, NULL); /* the slow part, inside the critical section */
        pthread_mutex_unlock(&lock);
        outside_work();
    }
    return NULL;
}

int main(int argc, char **argv) {
    int threads = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hold-us") && i + 1 < argc) hold_us = atol(argv[++i]);
        else if (!strcmp(argv[i], "--strategy") && i + 1 < argc) {
            /* serial = one thread; threads = --threads threads. */
            if (!strcmp(argv[++i], "serial")) threads = 1;
        } else {
            fprintf(stderr, "usage: %s [--threads N] [--rounds R] [--hold-us US] [--strategy serial|threads]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 256) {
        fprintf(stderr, "--threads must be 1..256\n");
        return 2;
    }
    pthread_t *ids = calloc((size_t)threads, sizeof *ids);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, worker, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "mutex_contention: threads=%d rounds=%d counter=%ld wall=%.2fs\n", threads, rounds, counter, wall);
    free(ids);
    return counter == (long)threads * rounds ? 0 : 1;
}
