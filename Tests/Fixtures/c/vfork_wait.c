// The parent vforks a child that sleeps before exiting: while it sleeps the parent is
// in uninterruptible (killable) sleep — state D — and cannot be stopped by ptrace.
// Usage: vfork_wait [seconds]
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    unsigned int micros = (unsigned int)((argc > 1 ? atof(argv[1]) : 1.0) * 1e6);
    pid_t pid = vfork();
    if (pid == 0) {
        usleep(micros);   // not strictly allowed after vfork, but works and is the point
        _exit(0);
    }
    return 0;
}
