// Four threads contend on one mutex that each holds across a 20 ms sleep, so at any
// moment one thread sleeps inside the critical section and three wait in
// pthread_mutex_lock. A 1 ms pause outside the lock keeps glibc's unfair mutex from
// handing the lock straight back to the thread that released it: each thread spends
// about a quarter of its time holding the lock (sleep) and the rest waiting (lock wait).
// Usage: mutex_contention [seconds] [threads]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int stop;

__attribute__((noinline)) static void hold_lock_and_sleep(void) {
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

__attribute__((noinline)) static void *contend_worker(void *arg) {
    (void)arg;
    while (!stop) {
        pthread_mutex_lock(&lock);
        hold_lock_and_sleep();
        pthread_mutex_unlock(&lock);
        struct timespec pause = {0, 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    int n = argc > 2 ? atoi(argv[2]) : 4;
    pthread_t t[64];
    for (int i = 0; i < n && i < 64; i++) pthread_create(&t[i], NULL, contend_worker, NULL);
    usleep((useconds_t)(seconds * 1e6));
    stop = 1;
    for (int i = 0; i < n && i < 64; i++) pthread_join(t[i], NULL);
    printf("done\n");
    return 0;
}
