; long t_checkcall(void *fn, long a, long b, long c, long d, long e, long f, long g)
;   [esp+4] = fn, [esp+8..32] = a..g
; Calls fn(a..g) with canaries in ebx, esi, edi and ebp, then checks them,
; esp and the direction flag.  Violations are OR-ed into t_clobbered.
; The result comes back in eax (edx:eax for 64-bit results) untouched.

%include "barealloc.inc"

extern t_clobbered

%define CANARY 0x5a5a0000

section .text
; t_checkcall64 is the same code, declared in t.h with a 64-bit result.
global t_checkcall64:function
BA_FUNC t_checkcall
t_checkcall64:
	push	ebp
	push	ebx
	push	esi
	push	edi
	mov	eax, [esp + 20]
%rep 7
	push	dword [esp + 48]        ; g, f, ... a: each push moves the next one here
%endrep
	mov	[saved_esp], esp        ; 4 saved + 7 arguments: esp % 16 == 0 at the call
	mov	ebx, CANARY + 1
	mov	esi, CANARY + 2
	mov	edi, CANARY + 3
	mov	ebp, CANARY + 4
	call	eax
	xor	ecx, ecx
	cmp	ebx, CANARY + 1
	jne	.reg
	cmp	esi, CANARY + 2
	jne	.reg
	cmp	edi, CANARY + 3
	jne	.reg
	cmp	ebp, CANARY + 4
	je	.sp
.reg:
	or	ecx, 1
.sp:
	cmp	esp, [saved_esp]
	je	.df
	or	ecx, 2
	mov	esp, [saved_esp]
.df:
	push	eax
	pushfd
	pop	eax
	test	eax, 0x400
	pop	eax
	jz	.done
	or	ecx, 4
	cld
.done:
	or	[t_clobbered], ecx
	add	esp, 28
	pop	edi
	pop	esi
	pop	ebx
	pop	ebp
	ret
BA_END

section .bss
saved_esp: resd 1

BA_NOEXEC_STACK
