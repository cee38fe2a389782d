/* Thread-local storage: the program's TLS image (its PT_TLS segment:
 * .tdata, then .tbss) copied below each thread's control block, and the
 * main thread's thread pointer, set before any constructor runs. */
#include "thread.h"
#include "barealloc.h"

/* The image, from the program headers the kernel passed (AT_PHDR). */
static struct {
	const char *init;
	size_t filesz, memsz;
	size_t align;           /* the thread pointer's: the image's, at least 16 */
	size_t offset;          /* from the thread pointer down to the block */
} tls;

struct elf_phdr {
#if __SIZEOF_POINTER__ == 8
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
#else
	uint32_t type, offset, vaddr, paddr, filesz, memsz, flags, align;
#endif
};

static void find_image(void)
{
	const struct elf_phdr *ph = (const struct elf_phdr *)ba_getauxval(AT_PHDR);
	unsigned long n = ba_getauxval(AT_PHNUM);

	size_t image_align = 1;

	for (unsigned long i = 0; ph && i < n; i++) {
		if (ph[i].type != PT_TLS)
			continue;
		tls.init = (const char *)(uintptr_t)ph[i].vaddr;
		tls.filesz = ph[i].filesz;
		tls.memsz = ph[i].memsz;
		image_align = ph[i].align ? ph[i].align : 1;
	}
	tls.align = image_align > 16 ? image_align : 16;
	/* The linker placed each variable at (its address in the image) minus
	 * the image's end rounded up to its alignment, counted from a thread
	 * pointer aligned as the image: the block starts offset bytes below. */
	tls.offset = tls.memsz + ((-tls.memsz - (uintptr_t)tls.init) & (image_align - 1));
}

size_t _ba_tls_area(void)
{
	return tls.offset + sizeof(struct ba_thread) + tls.align;
}

struct ba_thread *_ba_tls_place(char *area, size_t len)
{
	uintptr_t tp = ((uintptr_t)area + len - sizeof(struct ba_thread)) & ~(uintptr_t)(tls.align - 1);
	struct ba_thread *t = (struct ba_thread *)tp;

	memcpy((char *)tp - tls.offset, tls.init, tls.filesz);
	t->self = t;
	return t;
}

size_t _ba_tls_main_need(void)
{
	find_image();
	return _ba_tls_area();
}

/* area: _ba_tls_area() zeroed bytes that live as long as the process. */
void _ba_tls_init_main(char *area, size_t len)
{
	struct ba_thread *t = _ba_tls_place(area, len);

	if (sys_failed(_ba_tp_set(t))) {
		static const char msg[] = "barealloc: the kernel refused the thread pointer\n";
		sys_write(2, msg, sizeof msg - 1);
		sys_exit_group(127);
	}
	if (_ba_heap_attach)
		_ba_heap_attach();
}
