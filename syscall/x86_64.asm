; Raw Linux syscall stubs for x86-64, one per row of ba_abi.tab.
;
;   C argument:   rdi  rsi  rdx  rcx  r8  r9      result: rax
;   kernel:       rdi  rsi  rdx  r10  r8  r9      number: rax
; The syscall instruction clobbers rcx and r11, both caller-saved in C, so a
; stub only has to move the fourth argument into r10.  Results are returned
; untouched: -4095..-1 is -errno.

%include "barealloc.inc"

section .text

; Every named stub loads its number and shares one trap.
%macro STUB 2
BA_FUNC sys_%1, 4                ; a stub is a few bytes: no need of 16
	mov	eax, %2
	jmp	trap
BA_END
%endmacro
%define BA_CONST(name, value, doc)
%define BA_SYSCALL(name, x86_64, i386, doc) STUB name, x86_64
%include "ba_abi.tab"

section .text.trap progbits alloc exec nowrite align=16
trap:
	mov	r10, rcx
	syscall
	ret

; long sys_call6(long nr, long a, long b, long c, long d, long e, long f)
;   rdi = nr, rsi..r9 = a..e, [rsp+8] = f
BA_FUNC sys_call6
	mov	rax, rdi
	mov	rdi, rsi
	mov	rsi, rdx
	mov	rdx, rcx
	mov	r10, r8
	mov	r8, r9
	mov	r9, [rsp + 8]
	syscall
	ret
BA_END

BA_NOEXEC_STACK
