/* barealloc: the public C API. */
#ifndef BAREALLOC_H
#define BAREALLOC_H

#include "ba_types.h"

/* The byte loops, in assembly per ISA (alloc/<isa>/mem.asm).  gcc emits
 * calls to these even in freestanding code. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
