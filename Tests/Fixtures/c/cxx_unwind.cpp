// A C++ program whose threads block on purpose where an unwinder has to work hardest,
// for the gdb-parity test (Tests/ForkcastSamplingTests/GdbParityTests.swift):
//   - "cleanup":  in a destructor run by an exception's landing pad (code GCC moves to
//                 a `.cold` clone), several frames deep in recursion;
//   - "catcher":  in a catch handler, through a helper inlined into it;
//   - "signal":   inside a signal handler (a signal frame, __restore_rt);
//   - main:       joining them.
// Built at -O2 (no frame pointers) with -g, so gdb also shows the inlined frames.
// Usage: cxx_unwind SECONDS — every wait ends by itself after SECONDS; prints "ready".
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>
#include <vector>

static int seconds = 10;
static std::atomic<int> blocked{0};
static volatile sig_atomic_t handled = 0;

// Work after each call keeps the calls real calls (not tail calls, which leave no frame).
__attribute__((noinline)) static void block_here() {
    blocked.fetch_add(1);
    poll(nullptr, 0, seconds * 1000);
    blocked.fetch_sub(1);
}

struct Guard {
    ~Guard() { block_here(); }
};

__attribute__((noinline)) static void unwind_through(int depth) {
    Guard guard;
    if (depth == 0) throw std::runtime_error("on purpose");
    unwind_through(depth - 1);
    asm volatile("" ::: "memory");  // keep the recursion a real call
}

static void cleanup_thread() {
    try {
        unwind_through(3);
    } catch (const std::exception &) {
    }
}

__attribute__((noinline)) static void may_throw(int x) {
    if (x > 0) throw std::out_of_range("on purpose");
}

static inline __attribute__((always_inline)) void wait_inlined() { block_here(); }

__attribute__((noinline)) static void catcher_thread() {
    try {
        may_throw(1);
    } catch (const std::out_of_range &) {
        wait_inlined();
    }
}

__attribute__((noinline)) static void on_signal(int) {
    block_here();
    handled = 1;
}

static void signal_thread() {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, nullptr);
    pthread_kill(pthread_self(), SIGUSR1);
    if (!handled) abort();
}

int main(int argc, char **argv) {
    if (argc > 1) seconds = atoi(argv[1]);
    std::vector<std::thread> threads;
    threads.emplace_back(cleanup_thread);
    threads.emplace_back(catcher_thread);
    threads.emplace_back(signal_thread);
    while (blocked.load() < 3) usleep(1000);
    printf("ready\n");
    fflush(stdout);
    for (auto &t : threads) t.join();
    return 0;
}
