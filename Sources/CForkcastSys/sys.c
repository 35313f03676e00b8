// See include/CForkcastSys.h for the contract of each function.
#include "CForkcastSys.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef __WALL
#define __WALL 0x40000000
#endif

static inline int fc_result(long r) { return r < 0 ? -errno : (int)r; }

int fc_ptrace_seize(pid_t tid, unsigned long options) {
    return fc_result(ptrace(PTRACE_SEIZE, tid, 0, (void *)options));
}
int fc_ptrace_interrupt(pid_t tid) { return fc_result(ptrace(PTRACE_INTERRUPT, tid, 0, 0)); }
int fc_ptrace_cont(pid_t tid, int signal) {
    return fc_result(ptrace(PTRACE_CONT, tid, 0, (void *)(long)signal));
}
int fc_ptrace_listen(pid_t tid) { return fc_result(ptrace(PTRACE_LISTEN, tid, 0, 0)); }
int fc_ptrace_detach(pid_t tid, int signal) {
    return fc_result(ptrace(PTRACE_DETACH, tid, 0, (void *)(long)signal));
}
int fc_ptrace_geteventmsg(pid_t tid, unsigned long *message) {
    return fc_result(ptrace(PTRACE_GETEVENTMSG, tid, 0, message));
}

static void fc_decode(pid_t pid, int status, fc_wait_status *out) {
    memset(out, 0, sizeof(*out));
    out->pid = pid;
    if (WIFEXITED(status)) {
        out->exited = 1;
        out->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out->signaled = 1;
        out->signal = WTERMSIG(status);
#ifdef WCOREDUMP
        out->core_dumped = WCOREDUMP(status) ? 1 : 0;
#endif
    } else if (WIFSTOPPED(status)) {
        out->stopped = 1;
        out->signal = WSTOPSIG(status);
        out->event = (status >> 16) & 0xff;
    }
}

int fc_wait(pid_t which, int nohang, fc_wait_status *out) {
    int status = 0;
    pid_t r;
    do {
        r = waitpid(which, &status, __WALL | (nohang ? WNOHANG : 0));
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    if (r == 0) return 0;
    fc_decode(r, status, out);
    return r;
}

int fc_wait_untraced(pid_t pid, fc_wait_status *out) {
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid, &status, WUNTRACED);
    } while (r < 0 && errno == EINTR);
    if (r < 0) return -errno;
    fc_decode(r, status, out);
    return r;
}

pid_t fc_spawn_stopped(const char *path, char *const argv[], char *const envp[], const char *cwd,
                       int stdout_fd, int stderr_fd, int *exec_error_fd) {
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0) return -errno;
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(pipefd[0]);
        close(pipefd[1]);
        return -e;
    }
    if (pid == 0) {
        // Child: only async-signal-safe calls from here on.
        close(pipefd[0]);
        // The same signal policy as fc_spawn: empty mask, every disposition default.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++) {
            if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL);
        }
        int e = 0;
        if (stdout_fd >= 0 && dup2(stdout_fd, 1) < 0) e = errno;
        if (!e && stderr_fd >= 0 && dup2(stderr_fd, 2) < 0) e = errno;
        if (!e && cwd && chdir(cwd) < 0) e = errno;
        if (!e) {
            raise(SIGSTOP);
            execve(path, argv, envp);
            e = errno;
        }
        ssize_t ignored = write(pipefd[1], &e, sizeof(e));
        (void)ignored;
        _exit(127);
    }
    close(pipefd[1]);
    *exec_error_fd = pipefd[0];
    return pid;
}

int fc_read_exec_error(int fd) {
    int e = 0;
    ssize_t n;
    do {
        n = read(fd, &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(fd);
    return n == (ssize_t)sizeof(e) ? e : 0;
}

static void fc_tracer_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGQUIT);
}

int fc_block_tracer_signals(void) {
    sigset_t set;
    fc_tracer_set(&set);
    return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int fc_unblock_tracer_signals(void) {
    sigset_t set;
    fc_tracer_set(&set);
    return -pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int fc_block_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    return -pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int fc_sigchld_blocked(void) {
    sigset_t current;
    if (pthread_sigmask(SIG_BLOCK, NULL, &current) != 0) return 0;
    return sigismember(&current, SIGCHLD) == 1 ? 1 : 0;
}

int fc_tracer_signals_blocked(void) {
    sigset_t set, current;
    fc_tracer_set(&set);
    if (pthread_sigmask(SIG_BLOCK, NULL, &current) != 0) return 0;
    for (int sig = 1; sig < NSIG; sig++) {
        if (sigismember(&set, sig) == 1 && sigismember(&current, sig) != 1) return 0;
    }
    return 1;
}

int fc_wait_signal(int64_t timeout_ns, pid_t *sender) {
    sigset_t set;
    fc_tracer_set(&set);
    if (timeout_ns < 0) timeout_ns = 0;
    struct timespec ts = {.tv_sec = timeout_ns / 1000000000LL, .tv_nsec = timeout_ns % 1000000000LL};
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    int r = sigtimedwait(&set, &info, &ts);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR) return 0;
        return -errno;
    }
    if (sender) *sender = info.si_pid;
    return r;
}

pid_t fc_take_pending_sigchld(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    struct timespec zero = {0, 0};
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (sigtimedwait(&set, &info, &zero) != SIGCHLD) return 0;
    return info.si_pid > 0 ? info.si_pid : -1;
}

static volatile sig_atomic_t fc_pending_stop_signal = 0;
static void fc_stop_handler(int sig) { fc_pending_stop_signal = sig; }

void fc_install_stop_handlers(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = fc_stop_handler;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) sigaction(sigs[i], &sa, NULL);
}

int fc_take_pending_stop_signal(void) {
    int s = fc_pending_stop_signal;
    fc_pending_stop_signal = 0;
    return s;
}

int fc_kill(pid_t pid, int signal) { return fc_result(kill(pid, signal)); }
int fc_tgkill(pid_t pid, pid_t tid, int signal) { return fc_result(syscall(SYS_tgkill, pid, tid, signal)); }

int64_t fc_read_memory(pid_t pid, uint64_t address, void *buffer, uint64_t length) {
    struct iovec local = {.iov_base = buffer, .iov_len = length};
    struct iovec remote = {.iov_base = (void *)address, .iov_len = length};
    ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    return r < 0 ? -errno : (int64_t)r;
}

uint64_t fc_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t fc_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int fc_sleep_until_ns(uint64_t monotonic_ns) {
    struct timespec ts = {.tv_sec = monotonic_ns / 1000000000ULL, .tv_nsec = monotonic_ns % 1000000000ULL};
    int r;
    do {
        r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    } while (r == EINTR);
    return -r;
}

int fc_spawn(const char *path, int search_path, char *const argv[], char *const envp[], const char *cwd,
             const fc_fd_action *actions, int action_count, int new_group, pid_t *pid_out) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int r = posix_spawn_file_actions_init(&fa);
    if (r) return -r;
    r = posix_spawnattr_init(&attr);
    if (r) {
        posix_spawn_file_actions_destroy(&fa);
        return -r;
    }
    for (int i = 0; i < action_count && !r; i++) {
        const fc_fd_action *a = &actions[i];
        switch (a->kind) {
        case FC_FD_DUP: r = posix_spawn_file_actions_adddup2(&fa, a->source_fd, a->child_fd); break;
        case FC_FD_OPEN: r = posix_spawn_file_actions_addopen(&fa, a->child_fd, a->path, a->flags, a->mode); break;
        case FC_FD_CLOSE: r = posix_spawn_file_actions_addclose(&fa, a->child_fd); break;
        default: r = EINVAL;
        }
    }
    if (!r && cwd) r = posix_spawn_file_actions_addchdir_np(&fa, cwd);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (new_group) flags |= POSIX_SPAWN_SETPGROUP;
    if (!r) r = posix_spawnattr_setsigmask(&attr, &none);
    if (!r) r = posix_spawnattr_setsigdefault(&attr, &all);
    if (!r && new_group) r = posix_spawnattr_setpgroup(&attr, 0);
    if (!r) r = posix_spawnattr_setflags(&attr, flags);
    if (!r) {
        pid_t pid = 0;
        r = search_path ? posix_spawnp(&pid, path, &fa, &attr, argv, envp)
                        : posix_spawn(&pid, path, &fa, &attr, argv, envp);
        if (!r) *pid_out = pid;
    }
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return -r;
}

int fc_pipe_cloexec(int fds[2]) { return fc_result(pipe2(fds, O_CLOEXEC)); }

int fc_set_child_subreaper(void) { return fc_result(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)); }

// ---- scheduler events ----------------------------------------------------------
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

// Opens `attr` on `cpu` for every task, with what every ring here shares: nobody polls
// the ring, so a reader is woken only when it is half full. The fd, or -errno.
static int fc_perf_open_attr(struct perf_event_attr *attr, int cpu, uint32_t wakeup_bytes) {
    attr->size = sizeof *attr;
    attr->watermark = 1;
    attr->wakeup_watermark = wakeup_bytes;
    int fd = (int)syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static int fc_perf_open(uint64_t tracepoint_id, int cpu, uint32_t wakeup_bytes) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = tracepoint_id;
    attr.sample_period = 1;
    attr.sample_type = PERF_SAMPLE_RAW;
    return fc_perf_open_attr(&attr, cpu, wakeup_bytes);
}

// Maps `fd`'s ring (one metadata page, then `data_size` bytes) into `ring`; closes `fd`
// on failure. 0 or -errno.
static int fc_perf_map(int fd, uint64_t data_size, fc_perf_ring *ring) {
    uint64_t map_size = data_size + (uint64_t)sysconf(_SC_PAGESIZE);
    void *base = mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        close(fd);
        return -e;
    }
    ring->fd = fd;
    ring->base = base;
    ring->data_size = data_size;
    ring->map_size = map_size;
    return 0;
}

int fc_perf_ring_open(uint64_t tracepoint_id, int cpu, uint32_t data_pages, fc_perf_ring *ring) {
    uint64_t data_size = (uint64_t)data_pages * (uint64_t)sysconf(_SC_PAGESIZE);
    int fd = fc_perf_open(tracepoint_id, cpu, (uint32_t)(data_size / 2));
    return fd < 0 ? fd : fc_perf_map(fd, data_size, ring);
}

int fc_perf_ring_add(uint64_t tracepoint_id, int cpu, const fc_perf_ring *ring) {
    int fd = fc_perf_open(tracepoint_id, cpu, (uint32_t)(ring->data_size / 2));
    if (fd < 0) return fd;
    if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, ring->fd) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

void fc_perf_ring_close(fc_perf_ring *ring) {
    if (ring->base) munmap(ring->base, ring->map_size);
    if (ring->fd >= 0) close(ring->fd);
    ring->base = NULL;
    ring->fd = -1;
}

int fc_close_fd(int fd) { return close(fd) == 0 ? 0 : -errno; }

int fc_perf_switch_ring_open(int cpu, uint32_t data_pages, fc_perf_ring *ring) {
    uint64_t data_size = (uint64_t)data_pages * (uint64_t)sysconf(_SC_PAGESIZE);
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.context_switch = 1;
    attr.sample_id_all = 1;
    attr.sample_type = PERF_SAMPLE_TID;
    int fd = fc_perf_open_attr(&attr, cpu, (uint32_t)(data_size / 2));
    return fd < 0 ? fd : fc_perf_map(fd, data_size, ring);
}

// Reading a ring: records from data_tail to data_head, each handed out whole (a record
// that wraps around the end of the ring is copied into `scratch`).
typedef struct fc_ring_reader {
    struct perf_event_mmap_page *meta;
    const unsigned char *data;
    uint64_t size, head, tail;
} fc_ring_reader;

static void fc_reader_begin(fc_perf_ring *ring, fc_ring_reader *r) {
    r->meta = ring->base;
    r->size = ring->data_size;
    r->data = (const unsigned char *)ring->base + (r->meta->data_offset ? r->meta->data_offset : ring->map_size - r->size);
    r->head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
    r->tail = r->meta->data_tail;
}

// 1: `*record` is the next record (its header first, `header->size` bytes); 0: no more;
// -1: a record's size made no sense (the rest is skipped); -2: a record larger than
// `scratch` wrapped around the end (skipped).
static int fc_reader_next(fc_ring_reader *r, struct perf_event_header *header, const unsigned char **record,
                          unsigned char *scratch, uint64_t scratch_size) {
    if (r->tail >= r->head) return 0;
    uint64_t at = r->tail % r->size;
    if (at + sizeof *header <= r->size) {
        memcpy(header, r->data + at, sizeof *header);
    } else {
        for (uint64_t i = 0; i < sizeof *header; i++) ((unsigned char *)header)[i] = r->data[(at + i) % r->size];
    }
    if (header->size < sizeof *header || r->tail + header->size > r->head) {
        r->tail = r->head;
        return -1;
    }
    r->tail += header->size;
    if (at + header->size <= r->size) {
        *record = r->data + at;
        return 1;
    }
    if (header->size > scratch_size) return -2;
    uint64_t first = r->size - at;
    memcpy(scratch, r->data + at, first);
    memcpy(scratch + first, r->data, header->size - first);
    *record = scratch;
    return 1;
}

static void fc_reader_end(fc_ring_reader *r) { __atomic_store_n(&r->meta->data_tail, r->tail, __ATOMIC_RELEASE); }

int64_t fc_perf_switch_drain(fc_perf_ring *ring, int32_t *out, int64_t capacity, int32_t *last_in, int *lost) {
    fc_ring_reader reader;
    fc_reader_begin(ring, &reader);
    int64_t n = 0;
    unsigned char scratch[64];
    struct perf_event_header header;
    const unsigned char *r;
    int got;
    while ((got = fc_reader_next(&reader, &header, &r, scratch, sizeof scratch)) != 0) {
        if (got < 0) {
            *lost = FC_PERF_LOST_TRUNCATED;
            *last_in = -1;
            continue;
        }
        if (header.type == PERF_RECORD_SWITCH_CPU_WIDE) {
            // header, u32 next_prev_pid, u32 next_prev_tid, then sample_id: u32 pid, u32 tid
            // (the task current when written). OUT: current = outgoing, next_prev = next;
            // IN: current = incoming, next_prev = the task it replaced. The idle task
            // writes neither, so "to idle" is an OUT with next 0 and "from idle" an IN with
            // prev 0. `*last_in` follows the task on the CPU; a record that does not fit it
            // means a switch went unreported. A task's last switch, as it exits, is written
            // with pid and tid -1 (perf_event_tid: the task is no longer alive): it fits any
            // task — without that, every exit anywhere on the machine read as a lost event.
            if (header.size < sizeof header + 16) {
                *lost = FC_PERF_LOST_TRUNCATED;
                *last_in = -1;
                continue;
            }
            int32_t other, current;
            memcpy(&other, r + sizeof header + 4, 4);
            memcpy(&current, r + sizeof header + 12, 4);
            int32_t named;
            if (header.misc & PERF_RECORD_MISC_SWITCH_OUT) {
                if (*last_in >= 0 && current != -1 && current != *last_in) *lost = FC_PERF_LOST_CHAIN;
                named = other;
            } else {
                if (*last_in >= 0 && current != *last_in && other != *last_in && other != -1) *lost = FC_PERF_LOST_CHAIN;
                named = current;
            }
            *last_in = named;
            if (named > 0) {
                if (n < capacity) out[n++] = named;
                else *lost = FC_PERF_LOST_CAPACITY;
            }
        } else if (header.type == PERF_RECORD_LOST) {
            *lost = FC_PERF_LOST_RECORD;
            *last_in = -1;
        } else if (header.type != PERF_RECORD_SWITCH) {
            *lost = FC_PERF_LOST_OTHER_RECORD;
        }
    }
    fc_reader_end(&reader);
    return n;
}

int64_t fc_perf_ring_drain(fc_perf_ring *ring, const fc_perf_field *fields, int field_count, int32_t *out,
                           int64_t capacity, int *lost) {
    fc_ring_reader reader;
    fc_reader_begin(ring, &reader);
    int64_t n = 0;
    unsigned char scratch[512];
    struct perf_event_header header;
    const unsigned char *r;
    int got;
    while ((got = fc_reader_next(&reader, &header, &r, scratch, sizeof scratch)) != 0) {
        if (got < 0) {
            *lost = got == -1 ? FC_PERF_LOST_TRUNCATED : FC_PERF_LOST_UNKNOWN_SAMPLE;
            continue;
        }
        if (header.type == PERF_RECORD_SAMPLE) {
            // PERF_SAMPLE_RAW: u32 size, then the tracepoint's data, `common_type` first.
            uint32_t raw_size;
            uint16_t type = 0;
            memcpy(&raw_size, r + sizeof header, sizeof raw_size);
            const unsigned char *raw = r + sizeof header + sizeof raw_size;
            uint64_t raw_room = header.size - sizeof header - sizeof raw_size;
            if (raw_size > raw_room) raw_size = (uint32_t)raw_room;
            if (raw_size >= 2) memcpy(&type, raw, 2);
            int matched = 0;
            for (int f = 0; f < field_count; f++) {
                if (fields[f].type != type || (uint64_t)fields[f].offset + 4 > raw_size) continue;
                if (n < capacity) memcpy(&out[n++], raw + fields[f].offset, 4);
                else *lost = FC_PERF_LOST_CAPACITY;
                matched = 1;
            }
            if (!matched) *lost = FC_PERF_LOST_UNKNOWN_SAMPLE;
        } else if (header.type == PERF_RECORD_LOST) {
            *lost = FC_PERF_LOST_RECORD;
        } else {
            // PERF_RECORD_THROTTLE/UNTHROTTLE (the kernel dropped samples over its
            // perf_event_max_sample_rate), or anything else: not to be trusted.
            *lost = FC_PERF_LOST_OTHER_RECORD;
        }
    }
    fc_reader_end(&reader);
    return n;
}

// ---- xz ----------------------------------------------------------------------------
#include <lzma.h>
#include <stdlib.h>

int64_t fc_xz_decode(const uint8_t *in, uint64_t in_size, uint64_t limit, uint8_t **out) {
    *out = NULL;
    lzma_stream stream = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&stream, 256u << 20, 0) != LZMA_OK) return -1;
    uint64_t capacity = in_size * 4 + 4096;
    if (capacity > limit) capacity = limit;
    uint8_t *buffer = malloc(capacity);
    if (!buffer) { lzma_end(&stream); return -1; }
    stream.next_in = in;
    stream.avail_in = in_size;
    stream.next_out = buffer;
    stream.avail_out = capacity;
    for (;;) {
        lzma_ret r = lzma_code(&stream, LZMA_FINISH);
        if (r == LZMA_STREAM_END) break;
        if (r != LZMA_OK && r != LZMA_BUF_ERROR) goto fail;
        if (stream.avail_out == 0) {
            if (capacity >= limit) goto fail;
            uint64_t used = capacity;
            capacity = capacity * 2 > limit ? limit : capacity * 2;
            uint8_t *bigger = realloc(buffer, capacity);
            if (!bigger) goto fail;
            buffer = bigger;
            stream.next_out = buffer + used;
            stream.avail_out = capacity - used;
        } else if (r == LZMA_BUF_ERROR) {
            goto fail;  // input ended before the stream did
        }
    }
    int64_t size = (int64_t)stream.total_out;
    lzma_end(&stream);
    *out = buffer;
    return size;
fail:
    lzma_end(&stream);
    free(buffer);
    return -1;
}

void fc_free(void *pointer) { free(pointer); }
