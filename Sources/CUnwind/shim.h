#ifndef FORKCAST_CUNWIND_SHIM_H
#define FORKCAST_CUNWIND_SHIM_H
// libunwind's API names are macros over _Ux86_64_* symbols, and _UPT_accessors is a
// mutable global Swift 6 rejects. These static inline wrappers make them callable.
#include <libunwind-ptrace.h>

static inline unw_accessors_t *fc_upt_accessors(void) { return &_UPT_accessors; }
static inline unw_addr_space_t fc_unw_create_addr_space(unw_accessors_t *a, int byteorder) { return unw_create_addr_space(a, byteorder); }
static inline void fc_unw_destroy_addr_space(unw_addr_space_t as) { unw_destroy_addr_space(as); }
static inline void fc_unw_flush_cache(unw_addr_space_t as) { unw_flush_cache(as, 0, 0); }
static inline int fc_unw_set_caching_policy(unw_addr_space_t as, unw_caching_policy_t p) { return unw_set_caching_policy(as, p); }
static inline int fc_unw_init_remote(unw_cursor_t *c, unw_addr_space_t as, void *arg) { return unw_init_remote(c, as, arg); }
static inline int fc_unw_step(unw_cursor_t *c) { return unw_step(c); }
static inline int fc_unw_get_reg(unw_cursor_t *c, int reg, unw_word_t *v) { return unw_get_reg(c, reg, v); }
static inline int fc_unw_is_signal_frame(unw_cursor_t *c) { return unw_is_signal_frame(c); }
#endif
