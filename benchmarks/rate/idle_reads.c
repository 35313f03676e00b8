// What checking one idle thread costs per tick, by /proc reads, side by side in one run:
// the reads of the reuse rule (docs/recording.md, "Cost proportional to activity") and of
// its previous form, on THREADS threads blocked on a condition variable.
//
//   stat+schedstat      the previous rule (state letter, then counters)
//   syscall+schedstat   the rule now (syscall line, then counters)
//   schedstat           one read: the floor, but blind to a wake-up (not exact)
//
// Usage: idle_reads [THREADS] [ROUNDS]   (defaults 200, 30)
// Each round times every strategy over all threads (10 ticks each), interleaved; prints the
// CPU time of the reading thread (user + kernel) per thread per tick: the median and the
// minimum over rounds, and each strategy's median over the previous rule's.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int started = 0;

static void *idle(void *arg) {
    (void)arg;
    pthread_mutex_lock(&lock);
    started++;
    for (;;) pthread_cond_wait(&never, &lock);
    return NULL;
}

static double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

enum { STAT, SCHED, SYSCALL, NFILES };
static const char *names[NFILES] = {"stat", "schedstat", "syscall"};

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 200, rounds = argc > 2 ? atoi(argv[2]) : 30;
    if (n < 1 || n > 5000 || rounds < 1 || rounds > 1000) {
        fprintf(stderr, "usage: idle_reads [THREADS 1-5000] [ROUNDS 1-1000]\n");
        return 2;
    }
    pthread_t t;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&t, NULL, idle, NULL) != 0) { perror("pthread_create"); return 1; }
    }
    for (;;) {
        pthread_mutex_lock(&lock);
        int s = started;
        pthread_mutex_unlock(&lock);
        if (s == n) break;
        usleep(1000);
    }
    usleep(100000);  // all of them asleep in pthread_cond_wait
    int *fds = calloc((size_t)n * NFILES, sizeof(int));
    int k = 0;
    char path[128], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/task", getpid());
    // The idle threads' ids: every task but this one.
    FILE *ls;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls %s", path);
    if (!(ls = popen(cmd, "r"))) return 1;
    int tid;
    while (k < n && fscanf(ls, "%d", &tid) == 1) {
        if (tid == getpid()) continue;
        for (int f = 0; f < NFILES; f++) {
            snprintf(path, sizeof path, "/proc/%d/task/%d/%s", getpid(), tid, names[f]);
            if ((fds[k * NFILES + f] = open(path, O_RDONLY | O_CLOEXEC)) < 0) { perror(path); return 1; }
        }
        k++;
    }
    pclose(ls);
    const char *labels[3] = {"stat+schedstat (before)", "syscall+schedstat (now)", "schedstat alone (inexact)"};
    double *per[3];
    for (int s = 0; s < 3; s++) per[s] = calloc((size_t)rounds, sizeof(double));
    for (int r = 0; r < rounds; r++) {
        for (int s = 0; s < 3; s++) {
            double t0 = cpu_ns();
            for (int tick = 0; tick < 10; tick++) {
                for (int i = 0; i < k; i++) {
                    int *f = &fds[i * NFILES];
                    if (s == 0) pread(f[STAT], buf, sizeof buf, 0);
                    if (s == 1) pread(f[SYSCALL], buf, sizeof buf, 0);
                    pread(f[SCHED], buf, sizeof buf, 0);
                }
            }
            per[s][r] = (cpu_ns() - t0) / (10.0 * k) / 1000.0;
        }
    }
    double base = 0;
    printf("%d idle threads, %d rounds: CPU per idle thread per tick (µs)\n", k, rounds);
    printf("%-28s %8s %8s %8s\n", "reads", "median", "min", "ratio");
    for (int s = 0; s < 3; s++) {
        qsort(per[s], (size_t)rounds, sizeof(double), cmp);
        double med = per[s][rounds / 2];
        if (s == 0) base = med;
        printf("%-28s %8.2f %8.2f %7.2fx\n", labels[s], med, per[s][0], med / base);
    }
    return 0;
}
