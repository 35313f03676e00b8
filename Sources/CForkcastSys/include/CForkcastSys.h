#ifndef FORKCAST_SYS_H
#define FORKCAST_SYS_H
// C wrappers for what Swift cannot call: variadic ptrace, the wait-status macros,
// fork-stop-exec, sigtimedwait, process_vm_readv, and the remote unwinder whose
// libunwind accessor callbacks must be plain C functions.
//
// Conventions: functions return 0 (or a count) on success and -errno on failure;
// no function here prints, allocates Swift objects or keeps global state other than
// the unwinder's per-call context (the unwinder is used from one tracer thread).
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- ptrace -------------------------------------------------------------------
enum {
    FC_PTRACE_O_TRACECLONE = 0x08,
    FC_PTRACE_O_TRACEFORK = 0x02,
    FC_PTRACE_O_TRACEVFORK = 0x04,
    FC_PTRACE_O_TRACEEXEC = 0x10,
    FC_PTRACE_O_TRACEEXIT = 0x40,
};
enum {
    FC_PTRACE_EVENT_FORK = 1,
    FC_PTRACE_EVENT_VFORK = 2,
    FC_PTRACE_EVENT_CLONE = 3,
    FC_PTRACE_EVENT_EXEC = 4,
    FC_PTRACE_EVENT_VFORK_DONE = 5,
    FC_PTRACE_EVENT_EXIT = 6,
    FC_PTRACE_EVENT_STOP = 128,
};
int fc_ptrace_seize(pid_t tid, unsigned long options);
int fc_ptrace_interrupt(pid_t tid);
int fc_ptrace_cont(pid_t tid, int signal);
int fc_ptrace_listen(pid_t tid);
int fc_ptrace_detach(pid_t tid, int signal);
int fc_ptrace_geteventmsg(pid_t tid, unsigned long *message);

// ---- waitpid --------------------------------------------------------------------
/// One decoded wait status.
typedef struct {
    pid_t pid;          ///< the thread or process the status is about
    int exited;         ///< 1 when it exited normally; exit_code holds the code
    int exit_code;
    int signaled;       ///< 1 when it was killed by a signal; signal holds it
    int core_dumped;
    int stopped;        ///< 1 for any ptrace stop; signal holds WSTOPSIG
    int signal;
    int event;          ///< PTRACE_EVENT_* (status >> 16) for stops, else 0
} fc_wait_status;
/// waitpid(which, __WALL [| WNOHANG]). Returns the pid, 0 when nothing is ready
/// (nohang), or -errno (-ECHILD when nothing is left to wait for).
int fc_wait(pid_t which, int nohang, fc_wait_status *out);
/// waitpid(pid, WUNTRACED) for a child that is not traced yet.
int fc_wait_untraced(pid_t pid, fc_wait_status *out);

// ---- launching ---------------------------------------------------------------------
/// fork(); the child resets its signal mask and dispositions, changes to `cwd` (when not
/// NULL), points its stdout/stderr at `stdout_fd`/`stderr_fd` (when >= 0), stops itself
/// with SIGSTOP, then execve(path, argv, envp). If chdir or execve fails the child writes
/// errno to a close-on-exec pipe and exits 127; `exec_error_fd` receives the read end.
/// Returns the child's pid or -errno.
pid_t fc_spawn_stopped(const char *path, char *const argv[], char *const envp[], const char *cwd,
                       int stdout_fd, int stderr_fd, int *exec_error_fd);
/// Reads the errno a failed exec wrote; returns 0 when exec succeeded (EOF).
int fc_read_exec_error(int fd);

/// What to do with one descriptor of a child started by fc_spawn, in order.
enum {
    FC_FD_DUP = 1,      ///< dup2(source_fd, child_fd)
    FC_FD_OPEN = 2,     ///< open(path, flags, mode) as child_fd
    FC_FD_CLOSE = 3,    ///< close(child_fd)
};
typedef struct {
    int kind;           ///< FC_FD_*
    int child_fd;
    int source_fd;      ///< FC_FD_DUP
    const char *path;   ///< FC_FD_OPEN
    int flags;          ///< FC_FD_OPEN
    mode_t mode;        ///< FC_FD_OPEN
} fc_fd_action;
/// posix_spawn(p) with the one policy every child of forkcast gets: an empty signal mask
/// and default dispositions for every signal (forkcast blocks or ignores some itself),
/// the descriptor actions in order, `cwd` (when not NULL, via addchdir_np), and its own
/// process group when `new_group`. `search_path` looks `path` up in PATH. Returns 0 and
/// the pid in *pid_out, or -errno (of the spawn, a file action, chdir or exec).
int fc_spawn(const char *path, int search_path, char *const argv[], char *const envp[], const char *cwd,
             const fc_fd_action *actions, int action_count, int new_group, pid_t *pid_out);
/// pipe2(fds, O_CLOEXEC): both ends close-on-exec (a spawn dup2s the child's end).
int fc_pipe_cloexec(int fds[2]);
/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants are re-parented to this process.
int fc_set_child_subreaper(void);

// ---- signals ------------------------------------------------------------------------
/// Blocks SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT in the calling thread (inherited by
/// threads it creates) so that the tracer receives them with fc_wait_signal.
int fc_block_tracer_signals(void);
int fc_unblock_tracer_signals(void);
/// 1 when every tracer signal is blocked in the calling thread, else 0.
int fc_tracer_signals_blocked(void);
/// Blocks SIGCHLD alone in the calling thread (0 or -errno); fc_sigchld_blocked: 1 when it is.
int fc_block_sigchld(void);
int fc_sigchld_blocked(void);
/// Waits up to timeout_ns for one of the blocked signals. Returns the signal number,
/// 0 on timeout, or -errno; `sender` (if not NULL) gets the signal's si_pid (for SIGCHLD,
/// the thread whose state changed).
int fc_wait_signal(int64_t timeout_ns, pid_t *sender);
/// Takes a pending SIGCHLD without waiting: its si_pid, -1 if it had none, 0 if none was
/// pending.
pid_t fc_take_pending_sigchld(void);
/// Installs async-signal-safe handlers for SIGINT/SIGTERM/SIGHUP/SIGQUIT that only
/// record the signal (for threads that do not block them). fc_take_pending_stop_signal
/// returns and clears the recorded signal.
void fc_install_stop_handlers(void);
int fc_take_pending_stop_signal(void);
int fc_kill(pid_t pid, int signal);
int fc_tgkill(pid_t pid, pid_t tid, int signal);

// ---- memory -------------------------------------------------------------------------
/// process_vm_readv of one range. Returns bytes read or -errno.
int64_t fc_read_memory(pid_t pid, uint64_t address, void *buffer, uint64_t length);

// ---- time ----------------------------------------------------------------------------
uint64_t fc_monotonic_ns(void);
uint64_t fc_thread_cpu_ns(void);
int fc_sleep_until_ns(uint64_t monotonic_ns);

// ---- remote unwinding ----------------------------------------------------------------
/// Per-process unwinder state: a libunwind address space with caching, the unwind
/// tables (.eh_frame_hdr) of the target's ELF images found in the target's own memory
/// (so files in another mount namespace need not be opened), and _UPT as the fallback
/// for images without .eh_frame_hdr (it opens those by the path in /proc/PID/maps,
/// which for a process in another mount namespace is the wrong file or none).
typedef struct fc_unwinder fc_unwinder;
fc_unwinder *fc_unwinder_create(pid_t pid);
void fc_unwinder_destroy(fc_unwinder *unwinder);
/// Drops cached unwind info, e.g. after exec or when mappings changed.
void fc_unwinder_flush(fc_unwinder *unwinder);
/// Never falls back to _UPT (which opens files by the paths in /proc/PID/maps): for a
/// process in another root, where those paths name other files here.
void fc_unwinder_memory_tables_only(fc_unwinder *unwinder);

enum {
    FC_UNWIND_COMPLETE = 1,     ///< reached the outermost frame (unw_step returned 0)
    FC_UNWIND_TRUNCATED = 2,    ///< stopped at max_frames
    FC_UNWIND_ERROR = 4,        ///< unw_step failed before the root
    FC_UNWIND_NO_REGS = 8,      ///< registers could not be read
    FC_UNWIND_NEEDS_REGS = 16,  ///< (blocked unwind) a step needed a register other than pc/sp
};
/// Unwinds a thread that is in a ptrace stop (registers via PTRACE_GETREGS).
/// Writes up to max_frames program counters (leaf first) and returns how many;
/// *flags receives FC_UNWIND_* bits.
int fc_unwind_stopped(fc_unwinder *unwinder, pid_t tid, uint64_t *pcs, int max_frames, int *flags);
/// A thread's user registers as PTRACE_GETREGS returns them (struct user_regs_struct).
typedef struct { uint64_t words[27]; } fc_regs;
/// fc_unwind_stopped that also copies the registers it read into *regs (when not NULL).
int fc_unwind_stopped_regs(fc_unwinder *unwinder, pid_t tid, fc_regs *regs, uint64_t *pcs, int max_frames, int *flags);
/// Unwinds a thread that is blocked in a system call and NOT stopped, from the user
/// pc and sp that /proc/TID/syscall reports; stack memory is read with process_vm_readv.
/// Other registers are unknown: when a step needs one (a caller whose CFA is
/// rbp-based, with rbp still live in the register), the walk stops and *flags gets
/// FC_UNWIND_NEEDS_REGS — the caller must stop the thread and use fc_unwind_stopped.
/// The caller validates the result by re-reading /proc/TID/syscall afterwards.
int fc_unwind_blocked(fc_unwinder *unwinder, pid_t tid, uint64_t pc, uint64_t sp, uint64_t *pcs, int max_frames, int *flags);
/// fc_unwind_blocked with the other registers taken from `known` (read at an earlier
/// stop of this thread at the same pc and sp); pc and sp are the ones given.
int fc_unwind_blocked_regs(fc_unwinder *unwinder, pid_t tid, uint64_t pc, uint64_t sp, const fc_regs *known,
                           uint64_t *pcs, int max_frames, int *flags);

// ---- scheduler events (perf_event_open) ------------------------------------------
// One CPU's ring of tracepoint samples (PERF_SAMPLE_RAW), used to learn which threads
// were woken or put on a CPU between two ticks without reading /proc for each of them.
typedef struct fc_perf_ring {
    int fd;
    void *base;        // the mmap: one metadata page, then `data_size` bytes of records
    uint64_t data_size;
    uint64_t map_size;
} fc_perf_ring;
// Opens the tracepoint `tracepoint_id` (tracefs events/…/id) on `cpu` for every task,
// with a ring of `data_pages` pages (a power of two). 0 or -errno.
int fc_perf_ring_open(uint64_t tracepoint_id, int cpu, uint32_t data_pages, fc_perf_ring *ring);
// Opens another tracepoint on the same `cpu` whose samples go to `ring` (SET_OUTPUT).
// Returns its fd (close it with fc_close_fd) or -errno.
int fc_perf_ring_add(uint64_t tracepoint_id, int cpu, const fc_perf_ring *ring);
void fc_perf_ring_close(fc_perf_ring *ring);
// A tracepoint's samples in a ring: its `common_type` (the id) and where in its raw data
// the 4-byte thread id to report sits.
typedef struct fc_perf_field {
    uint32_t type;
    uint32_t offset;
} fc_perf_field;
// Why a drain could not account for every event (`*lost`), 0 when it could.
enum {
    FC_PERF_LOST_RECORD = 1,          // PERF_RECORD_LOST: the ring was full
    FC_PERF_LOST_TRUNCATED = 2,       // a record's size made no sense
    FC_PERF_LOST_UNKNOWN_SAMPLE = 3,  // a sample of no listed tracepoint, or too short
    FC_PERF_LOST_CAPACITY = 4,        // `out` was too small
    FC_PERF_LOST_OTHER_RECORD = 5,    // throttling (over perf_event_max_sample_rate) or other
    FC_PERF_LOST_CHAIN = 6,           // a CPU's switches do not chain: one was not reported
};
// Consumes every record written so far: for each sample of a listed tracepoint, the
// int32 at its field's offset is appended to `out` (at most `capacity`). Returns the
// count; `*lost` is set (FC_PERF_LOST_*) when the kernel dropped records (ring full or
// throttled), a record was not understood, or `out` was too small — the caller must then assume any thread may have
// been woken or run.
int64_t fc_perf_ring_drain(fc_perf_ring *ring, const fc_perf_field *fields, int field_count, int32_t *out,
                           int64_t capacity, int *lost);
int fc_close_fd(int fd);
// Opens a ring of the kernel's own context-switch records on `cpu`
// (PERF_RECORD_SWITCH_CPU_WIDE from a dummy software event with context_switch set,
// every task): unlike the sched_switch tracepoint, written from the scheduler itself, so
// switches out of the idle task are there too. 0 or -errno.
int fc_perf_switch_ring_open(int cpu, uint32_t data_pages, fc_perf_ring *ring);
// Consumes the ring's records: the tid of every task switched *in* is appended to `out`.
// `*last_in` is the tid last switched in on this CPU (-1: not known yet); every switch-in
// record names the task it replaced, which must be that one — a record that does not
// (the chain broken: a switch the kernel did not report) sets `*lost`
// (FC_PERF_LOST_CHAIN), as do dropped records.
int64_t fc_perf_switch_drain(fc_perf_ring *ring, int32_t *out, int64_t capacity, int32_t *last_in, int *lost);

// ---- xz (for .gnu_debugdata, MiniDebugInfo) ------------------------------------------
// Decodes a whole .xz stream into a buffer allocated with malloc (`*out`, free it with
// free). Returns the decoded size, or -1 when the data is not a valid .xz stream or would
// decode to more than `limit` bytes.
int64_t fc_xz_decode(const uint8_t *in, uint64_t in_size, uint64_t limit, uint8_t **out);
void fc_free(void *pointer);

#ifdef __cplusplus
}
#endif
#endif
