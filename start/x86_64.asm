; _start for x86-64.  The kernel enters with rsp pointing at argc, then
; argv[], NULL, envp[], NULL, auxv pairs; rbp is unspecified and rdx holds
; an atexit function only when a dynamic loader ran (never here).

%include "barealloc.inc"

extern _ba_start_c, _ba_thread_main

BA_FUNC _start
	xor	ebp, ebp                ; the outermost frame: backtraces stop here
	mov	rdi, rsp                ; _ba_start_c(initial stack)
	and	rsp, -16                ; the ABI wants rsp % 16 == 0 at a call
	call	_ba_start_c             ; never returns
	hlt
BA_END

; long _ba_tp_set(struct ba_thread *t): the caller's thread pointer, %fs base.
BA_INTERNAL _ba_tp_set
	mov	rsi, rdi
	mov	edi, ARCH_SET_FS
	mov	eax, SYS_arch_prctl
	syscall
	ret
BA_END

; long _ba_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
;                struct ba_thread *tp, struct ba_thread *t)
; The child starts on stack (16-byte aligned) with %fs = tp and calls
; _ba_thread_main(t), which never returns.  The parent gets the child's tid
; or -errno.  syscall keeps every register but rax, rcx and r11, in the
; child too: t is still in r9 there.
BA_INTERNAL _ba_clone
	mov	r10, rcx                ; the kernel's order: flags, stack, ptid, ctid, tls
	mov	eax, SYS_clone
	syscall
	test	rax, rax
	jnz	.parent
	xor	ebp, ebp                ; the child's outermost frame
	mov	rdi, r9
	call	_ba_thread_main
	hlt
.parent:
	ret
BA_END

BA_NOEXEC_STACK
