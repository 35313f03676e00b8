// Creates more threads than the kernel has thread ids (pid_max, 32768 by default), so the
// kernel hands out ids of threads that already ended again while forkcast records.
// Each thread spins a few microseconds and exits; 128 are alive at a time.
// Usage: tid_reuse TOTAL   — prints "threads=N distinct_wraps=W"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *briefly(void *arg) {
    volatile int x = 0;
    for (int i = 0; i < 2000; i++) x++;
    *(long *)arg = syscall(SYS_gettid);
    return NULL;
}

int main(int argc, char **argv) {
    long total = argc > 1 ? atol(argv[1]) : 40000;
    pthread_t t[128];
    long tids[128];
    long made = 0, wraps = 0, last = 0;
    while (made < total) {
        int n = 0;
        for (; n < 128 && made + n < total; n++)
            if (pthread_create(&t[n], NULL, briefly, &tids[n]) != 0) break;
        for (int i = 0; i < n; i++) {
            pthread_join(t[i], NULL);
            if (tids[i] < last) wraps++;  // the id counter went round
            last = tids[i];
        }
        made += n;
        if (n == 0) break;
    }
    printf("threads=%ld wraps=%ld\n", made, wraps);
    return 0;
}
