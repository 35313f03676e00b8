// A tree of processes that mostly wait, to attach to: the shape of a server (a parent,
// CHILDREN worker processes, each with THREADS threads blocked on a condition variable
// and a main thread that sleeps in short naps). Everything ends by itself after SECONDS.
//
// Usage: process_tree CHILDREN THREADS SECONDS
// Prints "ready PID" once every child and thread is started (PID: the parent).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *blocked_worker(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;) pthread_cond_wait(&cond, &lock);  // never signalled: the process exits instead
    return NULL;
}

__attribute__((noinline)) static void nap_until(double end) {
    while (now() < end) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: process_tree CHILDREN THREADS SECONDS\n");
        return 2;
    }
    int children = atoi(argv[1]), threads = atoi(argv[2]);
    double seconds = atof(argv[3]);
    if (children < 0 || children > 64 || threads < 0 || threads > 64 || seconds <= 0) return 2;
    double end = now() + seconds;
    int ready[2];
    if (pipe(ready) != 0) return 1;
    for (int c = 0; c < children; c++) {
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            close(ready[0]);
            for (int i = 0; i < threads; i++) {
                pthread_t t;
                pthread_create(&t, NULL, blocked_worker, NULL);
            }
            if (write(ready[1], "r", 1) != 1) _exit(1);
            close(ready[1]);
            nap_until(end);
            _exit(0);
        }
    }
    close(ready[1]);
    for (int c = 0; c < children; c++) {
        char b;
        if (read(ready[0], &b, 1) != 1) return 1;
    }
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        pthread_create(&t, NULL, blocked_worker, NULL);
    }
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    nap_until(end);
    while (wait(NULL) > 0) {}
    return 0;
}
