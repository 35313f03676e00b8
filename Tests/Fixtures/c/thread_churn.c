// Keeps creating short-lived threads (each spins ~2 ms then exits) and forking
// short-lived children, for `seconds`. Prints how many threads and children it made.
// Usage: thread_churn [seconds] [threads-alive-at-once]
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void *short_lived_worker(void *arg) {
    (void)arg;
    double end = now() + 0.002;
    volatile unsigned long x = 0;
    while (now() < end) x++;
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 1.0;
    int width = argc > 2 ? atoi(argv[2]) : 8;
    if (width < 1) width = 1;
    if (width > 512) width = 512;
    pthread_t *t = calloc((size_t)width, sizeof(pthread_t));
    long threads = 0, children = 0;
    double end = now() + seconds;
    while (now() < end) {
        for (int i = 0; i < width; i++) {
            if (pthread_create(&t[i], NULL, short_lived_worker, NULL) == 0) threads++;
            else t[i] = 0;
        }
        for (int i = 0; i < width; i++) if (t[i]) pthread_join(t[i], NULL);
        pid_t pid = fork();
        if (pid == 0) {
            short_lived_worker(NULL);
            _exit(0);
        }
        if (pid > 0) {
            waitpid(pid, NULL, 0);
            children++;
        }
    }
    printf("threads=%ld children=%ld\n", threads, children);
    free(t);
    return 0;
}
