; 64-bit division for i386 on the 64/32 div instruction: the functions gcc
; calls for / and % on 64-bit integers.  start/div64.c is the reference
; (bit by bit, no division); tests/arith.c checks the two against each
; other and against the identity n = q * d + r, 0 <= r < d.
;
; cdecl: 64-bit arguments take two stack slots, low first; 64-bit results
; come back in edx:eax.  ebx, esi, edi and ebp are preserved.  Division by
; zero traps (divide error, SIGFPE), as the hardware does.
%include "barealloc.inc"

; unsigned long long __udivmoddi4(unsigned long long n, unsigned long long d,
;                                 unsigned long long *rem)   rem may be NULL
;   d < 2^32: two divisions, the high word then the low one.
;   d >= 2^32: the quotient fits 32 bits.  Shift d left by s so that its
;   top bit is set; one division of n / 2 by that high word, shifted back,
;   gives the quotient or one more; take one off, and add it back if the
;   remainder is still at least d (Hacker's Delight, 9-5).
BA_FUNC __udivmoddi4
	push	ebp
	push	ebx
	push	esi
	push	edi
%define N_LO [esp + 20]
%define N_HI [esp + 24]
%define D_LO [esp + 28]
%define D_HI [esp + 32]
%define REM  [esp + 36]
	mov	ebx, D_LO
	mov	ecx, D_HI
	test	ecx, ecx
	jnz	.wide
	mov	eax, N_HI
	xor	edx, edx
	div	ebx                     ; eax = high word of q, edx = what is left
	mov	edi, eax
	mov	eax, N_LO
	div	ebx                     ; eax = low word of q, edx = r
	xor	esi, esi                ; r = esi:edx
	jmp	.store
.wide:
	bsr	edi, ecx
	xor	edi, 31                 ; s = leading zeros of d's high word
	mov	esi, ecx
	mov	ecx, edi
	shld	esi, ebx, cl            ; the top 32 bits of d << s, top bit set
	mov	eax, N_LO
	mov	edx, N_HI
	shrd	eax, edx, 1
	shr	edx, 1                  ; n / 2 < 2^63: the quotient fits 32 bits
	div	esi
	mov	ecx, 31
	sub	ecx, edi
	shr	eax, cl                 ; q = (q1 << s) >> 31: exact, or one more
	sub	eax, 1
	adc	eax, 0                  ; q - 1, but not below 0
	mov	edi, eax
	mul	ebx                     ; q * d, mod 2^64: q * d_lo ...
	mov	ecx, edx
	mov	esi, eax
	mov	eax, D_HI
	imul	eax, edi                ; ... + (q * d_hi) << 32
	add	ecx, eax
	mov	edx, N_LO
	mov	eax, N_HI
	sub	edx, esi
	sbb	eax, ecx                ; r = n - q * d, in [0, 2d)
	mov	esi, eax                ; r = esi:edx
	mov	eax, edx
	mov	ecx, esi
	sub	eax, ebx
	sbb	ecx, D_HI               ; r - d
	jb	.fits                   ; r < d: q is the quotient
	mov	edx, eax
	mov	esi, ecx
	add	edi, 1
.fits:
	xor	eax, eax                ; q = eax:edi after the swap below
	xchg	eax, edi                ; eax = q, edi = high word of q = 0
.store:                                 ; q = edi:eax, r = esi:edx
	mov	ecx, REM
	test	ecx, ecx
	jz	.done
	mov	[ecx], edx
	mov	[ecx + 4], esi
.done:
	mov	edx, edi
	pop	edi
	pop	esi
	pop	ebx
	pop	ebp
	ret
%undef N_LO
%undef N_HI
%undef D_LO
%undef D_HI
%undef REM
BA_END

; long long __divmoddi4(long long a, long long b, long long *rem)
; Truncating, as C's / and %: the quotient is negative when the signs
; differ, the remainder takes the dividend's sign.
BA_FUNC __divmoddi4
	push	ebp
	push	ebx
	push	esi
	push	edi
	sub	esp, 8                  ; the unsigned remainder; the call below is aligned
	mov	eax, [esp + 28]         ; a
	mov	edx, [esp + 32]
	mov	ebx, [esp + 36]         ; b
	mov	ecx, [esp + 40]
	mov	esi, edx                ; the dividend's sign
	mov	edi, edx
	xor	edi, ecx                ; the quotient's sign
	test	edx, edx
	jns	.a_pos
	neg	eax                     ; |a|
	adc	edx, 0
	neg	edx
.a_pos:
	test	ecx, ecx
	jns	.b_pos
	neg	ebx                     ; |b|
	adc	ecx, 0
	neg	ecx
.b_pos:
	mov	ebp, esp
	push	ebp
	push	ecx
	push	ebx
	push	edx
	push	eax
	call	__udivmoddi4
	add	esp, 20
	test	edi, edi
	jns	.q_pos
	neg	eax
	adc	edx, 0
	neg	edx
.q_pos:
	mov	ecx, [esp + 44]         ; rem
	test	ecx, ecx
	jz	.done
	mov	ebx, [esp]
	mov	ebp, [esp + 4]
	test	esi, esi
	jns	.r_pos
	neg	ebx
	adc	ebp, 0
	neg	ebp
.r_pos:
	mov	[ecx], ebx
	mov	[ecx + 4], ebp
.done:
	add	esp, 8
	pop	edi
	pop	esi
	pop	ebx
	pop	ebp
	ret
BA_END

; The four that gcc calls for / or % alone: the two above, with a NULL or
; a stack slot for the remainder.  Each pushes (n, d, rem) again; with the
; 8 bytes before them, the call is 16-byte aligned, as gcc's i386 ABI wants.

; QUOTIENT name, core: name(n, d) = core(n, d, NULL).
%macro QUOTIENT 2
BA_FUNC %1
	sub	esp, 8
	push	0
	push	dword [esp + 28]        ; d, then n: each push moves the next one here
	push	dword [esp + 28]
	push	dword [esp + 28]
	push	dword [esp + 28]
	call	%2
	add	esp, 28
	ret
BA_END
%endmacro

; REMAINDER name, core: name(n, d) = the remainder core(n, d, &r) leaves.
%macro REMAINDER 2
BA_FUNC %1
	sub	esp, 8                  ; the remainder
	push	esp
	push	dword [esp + 28]
	push	dword [esp + 28]
	push	dword [esp + 28]
	push	dword [esp + 28]
	call	%2
	mov	eax, [esp + 20]
	mov	edx, [esp + 24]
	add	esp, 28
	ret
BA_END
%endmacro

QUOTIENT __udivdi3, __udivmoddi4       ; unsigned long long (unsigned long long, unsigned long long)
REMAINDER __umoddi3, __udivmoddi4
QUOTIENT __divdi3, __divmoddi4          ; long long (long long, long long)
REMAINDER __moddi3, __divmoddi4

BA_NOEXEC_STACK
