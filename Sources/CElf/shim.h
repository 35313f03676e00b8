#ifndef FORKCAST_CELF_SHIM_H
#define FORKCAST_CELF_SHIM_H
#include <libelf.h>
#include <gelf.h>
#endif
