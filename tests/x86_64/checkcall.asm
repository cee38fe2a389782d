; long t_checkcall(void *fn, long a, long b, long c, long d, long e, long f, long g)
;   rdi = fn, rsi, rdx, rcx, r8, r9 = a..e, [rsp+8] = f, [rsp+16] = g
; Calls fn(a..g) with canaries in rbx, rbp and r12-r15, then checks them,
; rsp and the direction flag.  Violations are OR-ed into t_clobbered.

%include "barealloc.inc"

extern t_clobbered

%define CANARY 0x5a5a000000000000

section .text
; t_checkcall64 is the same code, declared in t.h with a 64-bit result.
global t_checkcall64:function
BA_FUNC t_checkcall
t_checkcall64:
	push	rbp
	push	rbx
	push	r12
	push	r13
	push	r14
	push	r15
	push	qword [rsp + 64]        ; g; 7 pushes: rsp % 16 == 0 at the call
	mov	rax, rdi
	mov	rdi, rsi
	mov	rsi, rdx
	mov	rdx, rcx
	mov	rcx, r8
	mov	r8, r9
	mov	r9, [rsp + 64]
	mov	[rel saved_rsp], rsp
	mov	rbx, CANARY + 1
	mov	rbp, CANARY + 2
	mov	r12, CANARY + 3
	mov	r13, CANARY + 4
	mov	r14, CANARY + 5
	mov	r15, CANARY + 6
	call	rax
	xor	ecx, ecx                ; violations found
	mov	r11, CANARY + 1
	cmp	rbx, r11
	jne	.reg
	mov	r11, CANARY + 2
	cmp	rbp, r11
	jne	.reg
	mov	r11, CANARY + 3
	cmp	r12, r11
	jne	.reg
	mov	r11, CANARY + 4
	cmp	r13, r11
	jne	.reg
	mov	r11, CANARY + 5
	cmp	r14, r11
	jne	.reg
	mov	r11, CANARY + 6
	cmp	r15, r11
	je	.sp
.reg:
	or	ecx, 1
.sp:
	cmp	rsp, [rel saved_rsp]
	je	.df
	or	ecx, 2
	mov	rsp, [rel saved_rsp]
.df:
	pushf
	pop	r11
	test	r11d, 0x400
	jz	.done
	or	ecx, 4
	cld
.done:
	or	[rel t_clobbered], ecx
	add	rsp, 8
	pop	r15
	pop	r14
	pop	r13
	pop	r12
	pop	rbx
	pop	rbp
	ret
BA_END

section .bss
saved_rsp: resq 1

BA_NOEXEC_STACK
