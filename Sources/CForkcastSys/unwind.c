// Remote unwinding with libunwind, without PTRACE_PEEKDATA.
//
// libunwind's ptrace accessors (_UPT_*) read memory one word per PTRACE_PEEKDATA and
// registers with PTRACE_GETREGS, which needs the thread stopped. We keep _UPT's
// unwind-table lookup (it maps the target's ELF images and finds .eh_frame_hdr) and
// replace the rest:
//   - memory: process_vm_readv of whole 4 KiB pages, cached for one unwind;
//   - registers: either PTRACE_GETREGS (stopped thread) or just pc/sp taken from
//     /proc/TID/syscall (thread blocked in a syscall, not stopped).
// All callbacks run on the tracer thread; the current unwind's context is kept in a
// thread-local because _UPT_find_proc_info passes its own arg down to access_mem.
#include "CForkcastSys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <libunwind-ptrace.h>

#define FC_PAGE 4096u
#define FC_CACHE_PAGES 32

struct fc_unwinder {
    pid_t pid;
    unw_addr_space_t space;
    void *upt;
};

typedef struct {
    pid_t tid;
    int full_regs;                  // 1: regs valid; 0: only pc/sp
    struct user_regs_struct regs;
    uint64_t pc, sp;
    void *upt;
    uint64_t page_addr[FC_CACHE_PAGES];
    int page_ok[FC_CACHE_PAGES];
    int pages_used;
    uint8_t pages[FC_CACHE_PAGES][FC_PAGE];
} fc_unwind_ctx;

static __thread fc_unwind_ctx *fc_current;
static __thread fc_unwind_ctx *fc_scratch;   // one per tracer thread, reused: 128 KiB

static fc_unwind_ctx *fc_take_scratch(pid_t tid) {
    if (!fc_scratch) fc_scratch = malloc(sizeof(fc_unwind_ctx));
    if (!fc_scratch) return NULL;
    fc_scratch->tid = tid;
    fc_scratch->full_regs = 0;
    fc_scratch->pc = fc_scratch->sp = 0;
    fc_scratch->pages_used = 0;
    fc_scratch->upt = NULL;
    return fc_scratch;
}

static int fc_fetch_page(fc_unwind_ctx *ctx, uint64_t page, const uint8_t **out) {
    for (int i = 0; i < ctx->pages_used; i++) {
        if (ctx->page_addr[i] == page) {
            if (!ctx->page_ok[i]) return -1;
            *out = ctx->pages[i];
            return 0;
        }
    }
    int slot;
    if (ctx->pages_used < FC_CACHE_PAGES) {
        slot = ctx->pages_used++;
    } else {
        slot = (int)((page / FC_PAGE) % FC_CACHE_PAGES);
    }
    ctx->page_addr[slot] = page;
    struct iovec local = {.iov_base = ctx->pages[slot], .iov_len = FC_PAGE};
    struct iovec remote = {.iov_base = (void *)page, .iov_len = FC_PAGE};
    ssize_t n = process_vm_readv(ctx->tid, &local, 1, &remote, 1, 0);
    ctx->page_ok[slot] = (n == (ssize_t)FC_PAGE);
    if (!ctx->page_ok[slot]) return -1;
    *out = ctx->pages[slot];
    return 0;
}

static int fc_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write, void *arg) {
    (void)as;
    (void)arg;
    fc_unwind_ctx *ctx = fc_current;
    if (!ctx || write) return -UNW_EINVAL;
    uint64_t page = addr & ~(uint64_t)(FC_PAGE - 1);
    uint64_t off = addr - page;
    const uint8_t *p;
    if (fc_fetch_page(ctx, page, &p) < 0) return -UNW_EINVAL;
    if (off + sizeof(unw_word_t) <= FC_PAGE) {
        memcpy(val, p + off, sizeof(unw_word_t));
        return 0;
    }
    uint8_t tmp[sizeof(unw_word_t)];
    size_t first = FC_PAGE - off;
    memcpy(tmp, p + off, first);
    const uint8_t *q;
    if (fc_fetch_page(ctx, page + FC_PAGE, &q) < 0) return -UNW_EINVAL;
    memcpy(tmp + first, q, sizeof(unw_word_t) - first);
    memcpy(val, tmp, sizeof(unw_word_t));
    return 0;
}

static int fc_reg_value(fc_unwind_ctx *ctx, int reg, unw_word_t *val) {
    if (!ctx->full_regs) {
        switch (reg) {
        case UNW_X86_64_RIP: *val = ctx->pc; return 0;
        case UNW_X86_64_RSP: *val = ctx->sp; return 0;
        default: *val = 0; return 0;
        }
    }
    const struct user_regs_struct *r = &ctx->regs;
    switch (reg) {
    case UNW_X86_64_RAX: *val = r->rax; break;
    case UNW_X86_64_RDX: *val = r->rdx; break;
    case UNW_X86_64_RCX: *val = r->rcx; break;
    case UNW_X86_64_RBX: *val = r->rbx; break;
    case UNW_X86_64_RSI: *val = r->rsi; break;
    case UNW_X86_64_RDI: *val = r->rdi; break;
    case UNW_X86_64_RBP: *val = r->rbp; break;
    case UNW_X86_64_RSP: *val = r->rsp; break;
    case UNW_X86_64_R8: *val = r->r8; break;
    case UNW_X86_64_R9: *val = r->r9; break;
    case UNW_X86_64_R10: *val = r->r10; break;
    case UNW_X86_64_R11: *val = r->r11; break;
    case UNW_X86_64_R12: *val = r->r12; break;
    case UNW_X86_64_R13: *val = r->r13; break;
    case UNW_X86_64_R14: *val = r->r14; break;
    case UNW_X86_64_R15: *val = r->r15; break;
    case UNW_X86_64_RIP: *val = r->rip; break;
    default: return -UNW_EBADREG;
    }
    return 0;
}

static int fc_access_reg(unw_addr_space_t as, unw_regnum_t reg, unw_word_t *val, int write, void *arg) {
    (void)as;
    (void)arg;
    fc_unwind_ctx *ctx = fc_current;
    if (!ctx || write) return -UNW_EINVAL;
    return fc_reg_value(ctx, reg, val);
}

static int fc_access_fpreg(unw_addr_space_t as, unw_regnum_t reg, unw_fpreg_t *val, int write, void *arg) {
    (void)as; (void)reg; (void)val; (void)write; (void)arg;
    return -UNW_EBADREG;
}

static int fc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info, void *arg) {
    (void)arg;
    fc_unwind_ctx *ctx = fc_current;
    if (!ctx || !ctx->upt) return -UNW_ENOINFO;
    return _UPT_find_proc_info(as, ip, pi, need_unwind_info, ctx->upt);
}

static void fc_put_unwind_info(unw_addr_space_t as, unw_proc_info_t *pi, void *arg) {
    (void)arg;
    fc_unwind_ctx *ctx = fc_current;
    _UPT_put_unwind_info(as, pi, ctx ? ctx->upt : NULL);
}

static int fc_get_dyn_info_list_addr(unw_addr_space_t as, unw_word_t *dil, void *arg) {
    (void)as; (void)dil; (void)arg;
    return -UNW_ENOINFO;
}

static int fc_resume(unw_addr_space_t as, unw_cursor_t *c, void *arg) {
    (void)as; (void)c; (void)arg;
    return -UNW_EINVAL;
}

static int fc_get_proc_name(unw_addr_space_t as, unw_word_t addr, char *buf, size_t len, unw_word_t *off, void *arg) {
    (void)as; (void)addr; (void)buf; (void)len; (void)off; (void)arg;
    return -UNW_ENOINFO;   // symbolization happens later, with libelf
}

static unw_accessors_t fc_accessors = {
    .find_proc_info = fc_find_proc_info,
    .put_unwind_info = fc_put_unwind_info,
    .get_dyn_info_list_addr = fc_get_dyn_info_list_addr,
    .access_mem = fc_access_mem,
    .access_reg = fc_access_reg,
    .access_fpreg = fc_access_fpreg,
    .resume = fc_resume,
    .get_proc_name = fc_get_proc_name,
};

fc_unwinder *fc_unwinder_create(pid_t pid) {
    fc_unwinder *u = calloc(1, sizeof(*u));
    if (!u) return NULL;
    u->pid = pid;
    u->space = unw_create_addr_space(&fc_accessors, 0);
    if (!u->space) {
        free(u);
        return NULL;
    }
    unw_set_caching_policy(u->space, UNW_CACHE_GLOBAL);
    u->upt = _UPT_create(pid);
    if (!u->upt) {
        unw_destroy_addr_space(u->space);
        free(u);
        return NULL;
    }
    return u;
}

void fc_unwinder_destroy(fc_unwinder *u) {
    if (!u) return;
    if (u->upt) _UPT_destroy(u->upt);
    if (u->space) unw_destroy_addr_space(u->space);
    free(u);
}

void fc_unwinder_flush(fc_unwinder *u) {
    if (!u) return;
    unw_flush_cache(u->space, 0, 0);
    if (u->upt) _UPT_destroy(u->upt);
    u->upt = _UPT_create(u->pid);
}

static int fc_walk(fc_unwinder *u, fc_unwind_ctx *ctx, uint64_t *pcs, int max_frames, int *flags) {
    unw_cursor_t cursor;
    ctx->upt = u->upt;
    fc_current = ctx;
    int n = 0;
    *flags = 0;
    if (unw_init_remote(&cursor, u->space, ctx) < 0) {
        // Still report the leaf so the sample is not empty.
        unw_word_t pc = 0;
        if (fc_reg_value(ctx, UNW_X86_64_RIP, &pc) == 0 && pc && max_frames > 0) pcs[n++] = pc;
        *flags = FC_UNWIND_ERROR;
        fc_current = NULL;
        return n;
    }
    for (;;) {
        unw_word_t ip = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0) {
            *flags |= (n > 0 && ip == 0) ? FC_UNWIND_COMPLETE : FC_UNWIND_ERROR;
            break;
        }
        if (n >= max_frames) {
            *flags |= FC_UNWIND_TRUNCATED;
            break;
        }
        pcs[n++] = ip;
        int r = unw_step(&cursor);
        if (r == 0) {
            *flags |= FC_UNWIND_COMPLETE;
            break;
        }
        if (r < 0) {
            *flags |= FC_UNWIND_ERROR;
            break;
        }
    }
    fc_current = NULL;
    return n;
}

int fc_unwind_stopped(fc_unwinder *u, pid_t tid, uint64_t *pcs, int max_frames, int *flags) {
    fc_unwind_ctx *ctx = fc_take_scratch(tid);
    if (!ctx) { *flags = FC_UNWIND_ERROR; return 0; }
    if (ptrace(PTRACE_GETREGS, tid, 0, &ctx->regs) < 0) {
        *flags = FC_UNWIND_NO_REGS;
        return 0;
    }
    ctx->full_regs = 1;
    return fc_walk(u, ctx, pcs, max_frames, flags);
}

int fc_unwind_blocked(fc_unwinder *u, pid_t tid, uint64_t pc, uint64_t sp, uint64_t *pcs, int max_frames, int *flags) {
    fc_unwind_ctx *ctx = fc_take_scratch(tid);
    if (!ctx) { *flags = FC_UNWIND_ERROR; return 0; }
    ctx->pc = pc;
    ctx->sp = sp;
    return fc_walk(u, ctx, pcs, max_frames, flags);
}
