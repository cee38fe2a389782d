/* A program owns every name that C does not reserve.  This one defines, as
 * functions and data of its own, every name that barealloc's library used
 * internally before its internals became static or took the reserved
 * prefix _ba_.  It must link (a clash is "multiple definition"), its own
 * definitions must be the ones it calls, and the allocator must work
 * beside them.  tests/run.sh also checks the library's symbol table: every
 * global name is in a public header, _start, or hidden with the prefix. */
#include "t.h"
#include "barealloc.h"

#define MINE(i, name) int name(void); int name(void) { return i; }
MINE(1, ba_alloc) MINE(2, ba_misuse) MINE(3, class_size) MINE(4, heap_get)
MINE(5, heap_walk) MINE(6, large_alloc) MINE(7, large_canary_ok) MINE(8, large_find)
MINE(9, large_free) MINE(10, large_misuse) MINE(11, large_realloc) MINE(12, map_set)
MINE(13, medium_alloc) MINE(14, medium_page) MINE(15, medium_resize) MINE(16, meta_alloc)
MINE(17, meta_free) MINE(18, meta_purge) MINE(19, os_map) MINE(20, os_protect)
MINE(21, os_purge) MINE(22, os_remap) MINE(23, os_unmap) MINE(24, page_arena)
MINE(25, small_alloc_slow) MINE(26, small_check) MINE(27, small_free_slow)
MINE(28, small_release_empty) MINE(29, small_resize) MINE(30, span_alloc)
MINE(31, span_containing) MINE(32, span_ends) MINE(33, span_free) MINE(34, span_grow)
MINE(35, span_mark) MINE(36, span_shrink)

static int (*const mine[])(void) = {
	ba_alloc, ba_misuse, class_size, heap_get, heap_walk, large_alloc, large_canary_ok,
	large_find, large_free, large_misuse, large_realloc, map_set, medium_alloc, medium_page,
	medium_resize, meta_alloc, meta_free, meta_purge, os_map, os_protect, os_purge, os_remap,
	os_unmap, page_arena, small_alloc_slow, small_check, small_free_slow, small_release_empty,
	small_resize, span_alloc, span_containing, span_ends, span_free, span_grow, span_mark,
	span_shrink,
};

/* The one internal data object of before, as data of the program's. */
char ba_heap_pages[16] = "the program's";

/* Every kind of block, written, grown, checked and freed. */
static int allocator_works(void)
{
	static const size_t sizes[] = { 0, 1, 100, 4096, 65536, 100000, 1 << 20, 3 << 20 };
	void *p[sizeof sizes / sizeof sizes[0]];
	int ok = 1;

	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		p[i] = malloc(sizes[i]);
		ok &= p[i] && malloc_usable_size(p[i]) == sizes[i];
		memset(p[i], (int)i, sizes[i]);
	}
	void *a = memalign(4096, 5000), *c = calloc(1000, 10);
	ok &= a && !((uintptr_t)a & 4095) && c && ((unsigned char *)c)[9999] == 0;
	p[2] = realloc(p[2], 300000);
	ok &= p[2] && ((unsigned char *)p[2])[99] == 2 && ba_check() == 0;
	for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		free(p[i]);
	free(a);
	free(c);
	struct ba_stats st;
	ba_stats(&st);
	return ok && st.live_blocks == 0 && ba_check() == 0;
}

int main(int argc, char **argv, char **envp)
{
	int own = 1;

	(void)argc, (void)argv, (void)envp;
	for (unsigned i = 0; i < sizeof mine / sizeof mine[0]; i++)
		own &= mine[i]() == (int)i + 1;
	T_TRUE("the program's 36 functions named like barealloc's old internals are its own", own);
	T_TRUE("the program's ba_heap_pages is its own data", ba_heap_pages[4] == 'p');
	T_TRUE("malloc, calloc, realloc, memalign and free work beside them", allocator_works());
	return t_exit_status();
}
