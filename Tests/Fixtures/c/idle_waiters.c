// Threads that block on purpose and never run, and one that moves once: the fixture of
// the reuse rule (docs/recording.md, "Cost proportional to activity").
//
// Usage: idle_waiters SECONDS WAITERS SWITCH_AT
// - WAITERS threads block in park_forever() on a condition variable nobody signals until
//   the end: they never run while recorded, so every sample of each is the same stack.
// - One thread ("mover") blocks in wait_before() reading a pipe; at SWITCH_AT seconds the
//   main thread writes to it, and the mover then blocks in wait_after() reading another
//   pipe until the end: its stack must change at the next tick.
// - The main thread sleeps, then releases everyone; the program ends by itself after
//   SECONDS. Prints "switched" when it wrote to the mover.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done = 0;
static int before_pipe[2], after_pipe[2];

static void sleep_seconds(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0) {}
}

__attribute__((noinline)) static void park_forever(void) {
    pthread_mutex_lock(&lock);
    while (!done) pthread_cond_wait(&cond, &lock);
    pthread_mutex_unlock(&lock);
    __asm__ volatile("" ::: "memory");  // no tail call: park_forever stays on the stack
}

static void *waiter(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "parked");
    park_forever();
    return NULL;
}

__attribute__((noinline)) static void wait_before(void) {
    char c;
    if (read(before_pipe[0], &c, 1) < 0) perror("read");
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void wait_after(void) {
    char c;
    if (read(after_pipe[0], &c, 1) < 0) perror("read");
    __asm__ volatile("" ::: "memory");
}

static void *mover(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "mover");
    wait_before();
    wait_after();
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: idle_waiters SECONDS WAITERS SWITCH_AT\n");
        return 2;
    }
    double seconds = atof(argv[1]), switch_at = atof(argv[3]);
    int waiters = atoi(argv[2]);
    if (waiters < 0 || waiters > 1000 || switch_at < 0 || switch_at > seconds) {
        fprintf(stderr, "idle_waiters: bad arguments\n");
        return 2;
    }
    if (pipe(before_pipe) != 0 || pipe(after_pipe) != 0) return 1;
    pthread_t *t = calloc((size_t)waiters + 1, sizeof(pthread_t));
    for (int i = 0; i < waiters; i++) pthread_create(&t[i], NULL, waiter, NULL);
    pthread_create(&t[waiters], NULL, mover, NULL);
    sleep_seconds(switch_at);
    if (write(before_pipe[1], "x", 1) != 1) return 1;
    printf("switched\n");
    fflush(stdout);
    sleep_seconds(seconds - switch_at);
    pthread_mutex_lock(&lock);
    done = 1;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&lock);
    if (write(after_pipe[1], "x", 1) != 1) return 1;
    for (int i = 0; i <= waiters; i++) pthread_join(t[i], NULL);
    free(t);
    return 0;
}
