// Remote unwinding with libunwind, without PTRACE_PEEKDATA.
//
// libunwind's ptrace accessors (_UPT_*) read memory one word per PTRACE_PEEKDATA and
// registers with PTRACE_GETREGS, which needs the thread stopped. We keep _UPT's
// unwind-table lookup (it maps the target's ELF images and finds .eh_frame_hdr) and
// replace the rest:
//   - memory: process_vm_readv of whole 4 KiB pages, cached for one unwind;
//   - registers: either PTRACE_GETREGS (stopped thread) or just pc/sp taken from
//     /proc/TID/syscall (thread blocked in a syscall, not stopped).
//   - unwind tables: each image's .eh_frame_hdr is found from its ELF program headers
//     in the target's memory and searched there (libunwind's remote-table lookup over
//     access_mem), so no file is opened: images in another mount namespace (a chroot,
//     a container), deleted files and the vDSO unwind like any other. Images without
//     .eh_frame_hdr fall back to _UPT (which opens the path /proc/PID/maps names).
// A thread blocked in a syscall is unwound from pc/sp only; when a step needs another
// register (a caller whose CFA is rbp-based while rbp is still live in the register —
// PostgreSQL's WaitEventSetWait above libc's epoll_wait), the walk stops with
// FC_UNWIND_NEEDS_REGS instead of guessing, and the caller stops the thread.
// All callbacks run on the tracer thread; the current unwind's context is kept in a
// thread-local because _UPT_find_proc_info passes its own arg down to access_mem.
#include "CForkcastSys.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <libunwind-ptrace.h>

#define FC_PAGE 4096u
#define FC_CACHE_PAGES 32

// libunwind's search of a binary-search table (.eh_frame_hdr) read through access_mem.
extern int _Ux86_64_dwarf_search_unwind_table(unw_addr_space_t as, unw_word_t ip, unw_dyn_info_t *di,
                                              unw_proc_info_t *pi, int need_unwind_info, void *arg);

// One line of /proc/PID/maps that matters for unwind tables.
typedef struct {
    uint64_t start, end, offset, inode;
    unsigned dev_major, dev_minor;
    int exec;
    char *path;                     // "" for anonymous memory
} fc_map;

// The unwind table of one executable mapping, once looked up.
typedef struct {
    uint64_t start, end;
    int status;                     // 1: di valid; -1: no .eh_frame_hdr in memory (use _UPT)
    unw_dyn_info_t di;
} fc_image;

struct fc_unwinder {
    pid_t pid;
    unw_addr_space_t space;
    void *upt;
    fc_map *maps;
    int nmaps;
    fc_image *images;
    int nimages, cap_images;
    int memory_only;                // never _UPT: the target's paths are not our files
};

typedef struct {
    pid_t tid;
    int full_regs;                  // 1: regs valid; 0: only pc/sp
    struct user_regs_struct regs;
    uint64_t pc, sp;
    int missing_reg;                // a step asked for a register we do not have
    int maps_reread;                // /proc/PID/maps was re-read during this walk
    fc_unwinder *unwinder;
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
    fc_scratch->missing_reg = 0;
    fc_scratch->maps_reread = 0;
    fc_scratch->unwinder = NULL;
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
        default:
            // Not known without stopping the thread: say so rather than guess 0.
            ctx->missing_reg = 1;
            *val = 0;
            return -UNW_EBADREG;
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

// ---- unwind tables from the target's memory -------------------------------------------

static void fc_free_maps(fc_unwinder *u) {
    for (int i = 0; i < u->nmaps; i++) free(u->maps[i].path);
    free(u->maps);
    u->maps = NULL;
    u->nmaps = 0;
}

static void fc_read_maps(fc_unwinder *u) {
    fc_free_maps(u);
    char name[64];
    snprintf(name, sizeof name, "/proc/%d/maps", (int)u->pid);
    FILE *f = fopen(name, "re");
    if (!f) return;
    int cap = 0;
    char *line = NULL;
    size_t len = 0;
    while (getline(&line, &len, f) > 0) {
        unsigned long long start, end, offset, inode;
        unsigned maj, min;
        char perms[8];
        int path_at = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset, &maj, &min, &inode, &path_at) < 7)
            continue;
        if (u->nmaps == cap) {
            cap = cap ? cap * 2 : 64;
            fc_map *grown = realloc(u->maps, (size_t)cap * sizeof(fc_map));
            if (!grown) break;
            u->maps = grown;
        }
        char *path = line + path_at;
        size_t n = strlen(path);
        while (n > 0 && (path[n - 1] == '\n' || path[n - 1] == ' ')) path[--n] = 0;
        fc_map *m = &u->maps[u->nmaps];
        m->path = strdup(path);
        if (!m->path) break;
        m->start = start; m->end = end; m->offset = offset; m->inode = inode;
        m->dev_major = maj; m->dev_minor = min;
        m->exec = perms[2] == 'x';
        u->nmaps++;
    }
    free(line);
    fclose(f);
}

static int fc_read_exact(pid_t tid, uint64_t address, void *buffer, size_t length) {
    struct iovec local = {.iov_base = buffer, .iov_len = length};
    struct iovec remote = {.iov_base = (void *)address, .iov_len = length};
    return process_vm_readv(tid, &local, 1, &remote, 1, 0) == (ssize_t)length ? 0 : -1;
}

// Size in bytes of a DWARF EH pointer encoding's value (0 when unsupported).
static size_t fc_eh_encoding_size(uint8_t enc) {
    switch (enc & 0x0f) {
    case 0x00: return 8;            // absptr
    case 0x02: case 0x0a: return 2; // udata2, sdata2
    case 0x03: case 0x0b: return 4; // udata4, sdata4
    case 0x04: case 0x0c: return 8; // udata8, sdata8
    default: return 0;
    }
}

// Finds the .eh_frame_hdr of the image that maps `m` (an executable mapping), from the
// ELF header and program headers at the image's first mapping, all in target memory.
static int fc_image_table(fc_unwinder *u, pid_t tid, const fc_map *m, unw_dyn_info_t *di) {
    if (m->path[0] == 0) return -1;                       // anonymous (JIT) code
    const fc_map *base = NULL;
    for (int i = 0; i < u->nmaps; i++) {
        const fc_map *b = &u->maps[i];
        if (b->offset == 0 && b->start <= m->start && b->inode == m->inode && b->dev_major == m->dev_major &&
            b->dev_minor == m->dev_minor && strcmp(b->path, m->path) == 0 && (!base || b->start > base->start))
            base = b;                                      // the closest image start below m
    }
    if (!base) return -1;
    Elf64_Ehdr eh;
    if (fc_read_exact(tid, base->start, &eh, sizeof eh) < 0) return -1;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > 128)
        return -1;
    Elf64_Phdr ph[128];
    if (fc_read_exact(tid, base->start + eh.e_phoff, ph, eh.e_phnum * sizeof(Elf64_Phdr)) < 0) return -1;
    const Elf64_Phdr *first_load = NULL, *eh_frame = NULL;
    for (int i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_LOAD && (!first_load || ph[i].p_vaddr < first_load->p_vaddr)) first_load = &ph[i];
        if (ph[i].p_type == PT_GNU_EH_FRAME) eh_frame = &ph[i];
    }
    if (!first_load || !eh_frame) return -1;
    // File offset 0 is at base->start; the first PT_LOAD maps p_offset at p_vaddr + bias.
    uint64_t bias = base->start - (first_load->p_vaddr - first_load->p_offset);
    uint64_t hdr = eh_frame->p_vaddr + bias;
    uint8_t head[4 + 8 + 8];
    if (fc_read_exact(tid, hdr, head, sizeof head) < 0) return -1;
    // version 1; fde table: datarel|sdata4 (what libunwind's remote lookup reads).
    if (head[0] != 1 || head[3] != 0x3b) return -1;
    size_t eh_ptr_size = fc_eh_encoding_size(head[1]);
    size_t count_size = fc_eh_encoding_size(head[2]);
    if (eh_ptr_size == 0 || (count_size != 4 && count_size != 8) || (head[2] & 0x70) != 0) return -1;
    uint64_t fde_count = 0;
    if (count_size == 4) {
        uint32_t c32;
        memcpy(&c32, head + 4 + eh_ptr_size, 4);
        fde_count = c32;
    } else {
        memcpy(&fde_count, head + 4 + eh_ptr_size, 8);
    }
    if (fde_count == 0 || fde_count > (1u << 26)) return -1;
    memset(di, 0, sizeof *di);
    di->format = UNW_INFO_FORMAT_REMOTE_TABLE;
    di->start_ip = m->start;
    di->end_ip = m->end;
    di->gp = 0;
    di->u.rti.name_ptr = 0;
    di->u.rti.segbase = hdr;
    di->u.rti.table_data = hdr + 4 + eh_ptr_size + count_size;
    di->u.rti.table_len = (fde_count * 8) / sizeof(unw_word_t);
    return 0;
}

// The cached table of the executable mapping holding ip; NULL when ip is in none.
static fc_image *fc_lookup_image(fc_unwinder *u, fc_unwind_ctx *ctx, uint64_t ip) {
    for (int i = 0; i < u->nimages; i++)
        if (ip >= u->images[i].start && ip < u->images[i].end) return &u->images[i];
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1 || u->nmaps == 0) {
            if (ctx->maps_reread) break;                  // once per walk at most
            ctx->maps_reread = 1;
            fc_read_maps(u);
        }
        for (int i = 0; i < u->nmaps; i++) {
            const fc_map *m = &u->maps[i];
            if (!m->exec || ip < m->start || ip >= m->end) continue;
            if (u->nimages == u->cap_images) {
                int cap = u->cap_images ? u->cap_images * 2 : 32;
                fc_image *grown = realloc(u->images, (size_t)cap * sizeof(fc_image));
                if (!grown) return NULL;
                u->images = grown;
                u->cap_images = cap;
            }
            fc_image *img = &u->images[u->nimages++];
            img->start = m->start;
            img->end = m->end;
            img->status = fc_image_table(u, ctx->tid, m, &img->di) == 0 ? 1 : -1;
            return img;
        }
    }
    return NULL;
}

static int fc_find_proc_info(unw_addr_space_t as, unw_word_t ip, unw_proc_info_t *pi, int need_unwind_info, void *arg) {
    (void)arg;
    fc_unwind_ctx *ctx = fc_current;
    if (!ctx) return -UNW_ENOINFO;
    if (ctx->unwinder) {
        fc_image *img = fc_lookup_image(ctx->unwinder, ctx, ip);
        if (img && img->status == 1) {
            int r = _Ux86_64_dwarf_search_unwind_table(as, ip, &img->di, pi, need_unwind_info, ctx);
            if (r >= 0 || r != -UNW_ENOINFO) return r;
        }
        if (!img) return -UNW_ENOINFO;                     // not in any executable mapping
    }
    if (!ctx->upt || (ctx->unwinder && ctx->unwinder->memory_only)) return -UNW_ENOINFO;
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
    fc_free_maps(u);
    free(u->images);
    if (u->upt) _UPT_destroy(u->upt);
    if (u->space) unw_destroy_addr_space(u->space);
    free(u);
}

void fc_unwinder_memory_tables_only(fc_unwinder *u) {
    if (u) u->memory_only = 1;
}

void fc_unwinder_flush(fc_unwinder *u) {
    if (!u) return;
    unw_flush_cache(u->space, 0, 0);
    fc_free_maps(u);
    u->nimages = 0;
    if (u->upt) _UPT_destroy(u->upt);
    u->upt = _UPT_create(u->pid);
}

static int fc_walk(fc_unwinder *u, fc_unwind_ctx *ctx, uint64_t *pcs, int max_frames, int *flags) {
    unw_cursor_t cursor;
    ctx->upt = u->upt;
    ctx->unwinder = u;
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
    if (ctx->missing_reg && !(*flags & FC_UNWIND_COMPLETE)) *flags |= FC_UNWIND_NEEDS_REGS;
    fc_current = NULL;
    return n;
}

_Static_assert(sizeof(fc_regs) == sizeof(struct user_regs_struct), "fc_regs mirrors user_regs_struct");

int fc_unwind_stopped_regs(fc_unwinder *u, pid_t tid, fc_regs *regs, uint64_t *pcs, int max_frames, int *flags) {
    fc_unwind_ctx *ctx = fc_take_scratch(tid);
    if (!ctx) { *flags = FC_UNWIND_ERROR; return 0; }
    if (ptrace(PTRACE_GETREGS, tid, 0, &ctx->regs) < 0) {
        *flags = FC_UNWIND_NO_REGS;
        return 0;
    }
    if (regs) memcpy(regs, &ctx->regs, sizeof *regs);
    ctx->full_regs = 1;
    return fc_walk(u, ctx, pcs, max_frames, flags);
}

int fc_unwind_stopped(fc_unwinder *u, pid_t tid, uint64_t *pcs, int max_frames, int *flags) {
    return fc_unwind_stopped_regs(u, tid, NULL, pcs, max_frames, flags);
}

int fc_unwind_blocked_regs(fc_unwinder *u, pid_t tid, uint64_t pc, uint64_t sp, const fc_regs *known,
                           uint64_t *pcs, int max_frames, int *flags) {
    fc_unwind_ctx *ctx = fc_take_scratch(tid);
    if (!ctx) { *flags = FC_UNWIND_ERROR; return 0; }
    memcpy(&ctx->regs, known, sizeof ctx->regs);
    ctx->regs.rip = pc;
    ctx->regs.rsp = sp;
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
