; Raw Linux syscall stubs for i386, one per row of ba_abi.tab.
;
;   C argument:   [esp+4] [esp+8] [esp+12] [esp+16] [esp+20] [esp+24]
;   int 0x80:      ebx     ecx     edx      esi      edi      ebp
;   number in eax, result in eax.
; ebx, esi, edi and ebp are callee-saved in C, so the trap saves them.  It
; always loads six argument slots: a call with fewer arguments reads the
; caller's own frame, which is mapped, and the kernel ignores the extra
; registers.  A 64-bit C argument fills two slots, low half first, which is
; the order the kernel's *64 calls (ftruncate64) expect.

%include "barealloc.inc"

section .text

%macro STUB 2
%ifnidn %1, mmap                ; sys_mmap converts its offset, below
BA_FUNC sys_%1, 4                ; a stub is a few bytes: no need of 16
	mov	eax, %2
	jmp	trap
BA_END
%endif
%endmacro
%define BA_CONST(name, value, doc)
%define BA_SYSCALL(name, x86_64, i386, doc) STUB name, i386
%include "ba_abi.tab"

; eax = number; the caller's arguments start at [esp+4].
section .text.trap progbits alloc exec nowrite align=16
trap:
	push	ebx
	push	esi
	push	edi
	push	ebp
	mov	ebx, [esp + 20]
	mov	ecx, [esp + 24]
	mov	edx, [esp + 28]
	mov	esi, [esp + 32]
	mov	edi, [esp + 36]
	mov	ebp, [esp + 40]
	int	0x80
	pop	ebp
	pop	edi
	pop	esi
	pop	ebx
	ret

; long sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long long off)
;   [esp+4] addr .. [esp+20] fd, [esp+24] off low, [esp+28] off high.
; mmap2 takes the offset in 4096-byte units whatever the page size, so the
; byte offset must be a multiple of 4096 and its unit count must fit 32 bits.
BA_FUNC sys_mmap
	mov	eax, [esp + 24]
	mov	edx, [esp + 28]
	test	eax, 0xfff
	jnz	.einval
	cmp	edx, 0xfff
	ja	.eoverflow
	shrd	eax, edx, 12
	push	ebx
	push	esi
	push	edi
	push	ebp
	mov	ebp, eax
	mov	ebx, [esp + 20]
	mov	ecx, [esp + 24]
	mov	edx, [esp + 28]
	mov	esi, [esp + 32]
	mov	edi, [esp + 36]
	mov	eax, SYS_mmap
	int	0x80
	pop	ebp
	pop	edi
	pop	esi
	pop	ebx
	ret
.einval:
	mov	eax, -EINVAL
	ret
.eoverflow:
	mov	eax, -EOVERFLOW
	ret
BA_END

; long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
;   [esp+4] = nr, [esp+8..28] = a..f
BA_FUNC sys_call6
	push	ebx
	push	esi
	push	edi
	push	ebp
	mov	eax, [esp + 20]
	mov	ebx, [esp + 24]
	mov	ecx, [esp + 28]
	mov	edx, [esp + 32]
	mov	esi, [esp + 36]
	mov	edi, [esp + 40]
	mov	ebp, [esp + 44]
	int	0x80
	pop	ebp
	pop	edi
	pop	esi
	pop	ebx
	ret
BA_END

BA_NOEXEC_STACK
