; _start for i386.  The kernel enters with esp pointing at argc, then
; argv[], NULL, envp[], NULL, auxv pairs.  gcc's i386 ABI assumes esp is
; 16-byte aligned at every call instruction.

%include "barealloc.inc"

extern _ba_start_c, _ba_thread_main

BA_FUNC _start
	xor	ebp, ebp                ; the outermost frame: backtraces stop here
	mov	eax, esp
	and	esp, -16
	sub	esp, 12                 ; 12 + the 4-byte argument = 16
	push	eax                     ; _ba_start_c(initial stack)
	call	_ba_start_c             ; never returns
	hlt
BA_END

; The GDT entry that set_thread_area chose for the main thread: every
; thread's %gs selects it, each with its own base (the kernel keeps the
; TLS entries per thread).  -1 until then: "any free entry".
section .data
tls_entry: dd -1

; The struct ba_user_desc (ba_sys.h) of a flat 4 GiB data segment at base
; eax, built at [esp]: 32-bit, limit in pages, usable.
%macro USER_DESC 0
	sub	esp, 16
	mov	ecx, [tls_entry]
	mov	[esp], ecx
	mov	[esp + 4], eax
	mov	dword [esp + 8], 0xfffff
	mov	dword [esp + 12], 0x51
%endmacro

; long _ba_tp_set(struct ba_thread *t): the caller's thread pointer, the
; base of the segment %gs selects.  qemu-i386 may start a program with %gs
; already set: it is reloaded whatever it held.
BA_INTERNAL _ba_tp_set
	push	ebx
	mov	eax, [esp + 8]
	USER_DESC
	mov	ebx, esp
	mov	eax, SYS_set_thread_area
	int	0x80
	test	eax, eax
	jnz	.done
	mov	ecx, [esp]              ; the entry the kernel chose
	mov	[tls_entry], ecx
	lea	ecx, [ecx * 8 + 3]      ; GDT, ring 3
	mov	gs, cx
.done:
	add	esp, 16
	pop	ebx
	ret
BA_END

; long _ba_clone(unsigned long flags, void *stack, int *ptid, int *ctid,
;                struct ba_thread *tp, struct ba_thread *t)
; The child starts on stack (16-byte aligned) with its own %gs base, tp,
; and calls _ba_thread_main(t), never to return: t is stored at the top of
; the new stack, where the call finds its argument.  The parent gets the
; child's tid or -errno.
BA_INTERNAL _ba_clone
	push	ebx
	push	esi
	push	edi
	push	ebp                     ; the arguments start at [esp + 20]
	mov	eax, [esp + 36]         ; tp
	USER_DESC                       ; now at [esp + 36]
	mov	ecx, [esp + 40]         ; stack
	mov	eax, [esp + 56]         ; t
	mov	[ecx], eax
	mov	ebx, [esp + 36]         ; flags
	mov	edx, [esp + 44]         ; ptid
	mov	edi, [esp + 48]         ; ctid
	mov	esi, esp                ; tls: the descriptor
	mov	eax, SYS_clone          ; the kernel's order: flags, stack, ptid, tls, ctid
	int	0x80
	test	eax, eax
	jnz	.parent
	xor	ebp, ebp                ; the child's outermost frame
	call	_ba_thread_main
	hlt
.parent:
	add	esp, 16
	pop	ebp
	pop	edi
	pop	esi
	pop	ebx
	ret
BA_END

BA_NOEXEC_STACK
