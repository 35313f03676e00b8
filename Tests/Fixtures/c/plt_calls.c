// Calls through the PLT with lazy binding (built with -Wl,-z,lazy -fno-builtin): the
// fixture of unwinding from a pc inside a PLT stub (issue 13, "PLT stubs").
//
// Usage: plt_calls SECONDS
// - Thread "plt_spin" calls labs() in a loop for SECONDS: a call through the PLT to a
//   three-instruction libc function, so many of its samples stop in the stub itself.
// - The main thread blocks in read() on a pipe nobody writes to, reached through the
//   PLT too, until plt_spin ends. Ends by itself.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static volatile long sink;
static double seconds;
static int never[2];

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void spin_through_plt(void) {
    double end = now() + seconds;
    long s = 0;
    while (now() < end) {
        for (long i = -5000; i < 5000; i++) s += labs(i);
        sink = s;
    }
}

static void *spinner(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "plt_spin");
    spin_through_plt();
    close(never[1]);  // main's read returns
    return NULL;
}

__attribute__((noinline)) static void block_through_plt(void) {
    char c;
    if (read(never[0], &c, 1) < 0) perror("read");
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv) {
    seconds = argc > 1 ? atof(argv[1]) : 1;
    if (seconds <= 0 || seconds > 30 || pipe(never) != 0) return 2;
    pthread_t t;
    pthread_create(&t, NULL, spinner, NULL);
    block_through_plt();
    pthread_join(t, NULL);
    return 0;
}
