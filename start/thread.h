/* The thread control block, shared by the start code (tls.c) and the
 * thread API (thread.c).  Each thread's TLS block sits right below it, as
 * the x86 TLS ABI's variant II wants, and the thread pointer (%fs base on
 * x86-64, %gs base on i386) is its address. */
#ifndef BA_START_THREAD_H
#define BA_START_THREAD_H

#include "ba_sys.h"
#include "ba_thread.h"

#pragma GCC visibility push(hidden)

struct ba_thread {
	struct ba_thread *self;         /* word 0: %fs:0 / %gs:0 reads the thread pointer */
	void *heap;                     /* word 1: the allocator's (alloc/os.h, OS_TLS_HEAP) */
	int tid;                        /* set by clone, cleared and woken by the kernel at exit */
	void *(*fn)(void *);
	void *arg;
	void *ret;
	void *map;                      /* guard, stack, TLS and this; NULL for the main thread */
	size_t map_len;
	unsigned long long sigmask;     /* the creator's: the thread starts with signals blocked */
};

/* tls.c: the bytes a thread needs for its TLS block and control block,
 * and their layout in such an area (fresh, zeroed memory). */
size_t _ba_tls_area(void);
struct ba_thread *_ba_tls_place(char *area, size_t len);
void _ba_tls_init_main(char *area, size_t len);
size_t _ba_tls_main_need(void);

/* start/<isa>.asm: the thread pointer of the caller (0 or -errno), and
 * clone, whose child calls _ba_thread_main(t) on its new stack. */
long _ba_tp_set(struct ba_thread *t);
long _ba_clone(unsigned long flags, void *stack, int *ptid, int *ctid, struct ba_thread *tp,
	       struct ba_thread *t);
_Noreturn void _ba_thread_main(struct ba_thread *t);

/* The allocator's, when it is linked (weak references: a program that
 * never allocates has none). */
void _ba_heap_attach(void) __attribute__((weak));
void _ba_heap_detach(void) __attribute__((weak));

#pragma GCC visibility pop

#endif
