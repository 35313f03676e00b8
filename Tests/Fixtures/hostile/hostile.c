// A target whose names are hostile: function names (patched into the symbol table
// after compiling, see Tests/ForkcastHardeningTests/HostileTargetTests.swift), thread
// names, command line and the file path it waits on carry HTML, JavaScript, ANSI escape
// sequences, newlines and invalid UTF-8. It prints nothing, so anything that reaches
// forkcast's terminal output came through forkcast.
//
// Usage: hostile SECONDS FIFO-PATH [ARGS...]   (extra args only decorate the command line)
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile unsigned long sink;
static void spin(double seconds) {
    double end = now() + seconds;
    while (now() < end) sink++;
}

// Each placeholder is exactly 64 bytes; the test overwrites the symbol-table strings with
// hostile names of the same length.
// The increment after the call keeps it from becoming a tail call, so the function stays on the stack.
#define FN(placeholder) __attribute__((noinline, used)) void placeholder(void) { spin(0.005); sink++; }
FN(HOSTILEFUNCTION0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
FN(HOSTILEFUNCTION1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
FN(HOSTILEFUNCTION2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
FN(HOSTILEFUNCTION3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)
FN(HOSTILEFUNCTION4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA)

static const char *thread_names[] = {
    "<script>x</s",          // HTML
    "\x1b[2J\x1b]0;t\a",     // clear screen + set terminal title
    "a\nb\r\x1b[31m",        // newline, carriage return, colour
    "\xff\xfe\xc0\x80" "bad", // invalid UTF-8
};

static void *worker(void *arg) {
    const char *name = arg;
    prctl(PR_SET_NAME, name, 0, 0, 0);
    for (;;) {
        HOSTILEFUNCTION0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA();
        HOSTILEFUNCTION1AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA();
        HOSTILEFUNCTION2AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA();
        HOSTILEFUNCTION3AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA();
        HOSTILEFUNCTION4AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA();
    }
    return NULL;
}

// Blocks reading a FIFO whose path is hostile (the path given plus two bytes of invalid
// UTF-8), so the profile records it as a wait target.
static char fifo_path[4096];
static void *reader(void *arg) {
    const char *path = arg;
    prctl(PR_SET_NAME, "\"><img src=x>", 0, 0, 0);
    int fd = open(path, O_RDWR);  // O_RDWR: opening a FIFO does not block
    char c;
    if (fd >= 0) for (;;) if (read(fd, &c, 1) <= 0) break;
    return NULL;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    if (argc > 2) {
        snprintf(fifo_path, sizeof fifo_path, "%s\xff\xfe", argv[2]);
        mkfifo(fifo_path, 0600);
    }
    pthread_t t;
    for (unsigned i = 0; i < sizeof thread_names / sizeof *thread_names; i++)
        pthread_create(&t, NULL, worker, (void *)thread_names[i]);
    if (argc > 2) pthread_create(&t, NULL, reader, fifo_path);
    prctl(PR_SET_NAME, "<b>\x1b[1mmain\xff", 0, 0, 0);
    spin(seconds);
    if (argc > 2) unlink(fifo_path);
    _exit(0);
}
