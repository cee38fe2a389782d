; memcpy, memmove, memset, memcmp for x86-64 (SSE2 is part of the base ISA).
; The C twin is alloc/mem.c.  Sizes up to 32 are done with a pair of
; overlapping head and tail moves and no loop; every load happens before
; any store there, so the same code is also a correct memmove.

%include "barealloc.inc"

section .text

; void *memcpy(void *dst, const void *src, size_t n)
;   rdi = dst, rsi = src, rdx = n; returns dst in rax
BA_FUNC memcpy
	mov	rax, rdi
	cmp	rdx, 32
	ja	copy_forward_big
copy_small:                             ; n <= 32, loads before stores
	cmp	edx, 16
	jb	.lt16
	movdqu	xmm0, [rsi]
	movdqu	xmm1, [rsi + rdx - 16]
	movdqu	[rdi], xmm0
	movdqu	[rdi + rdx - 16], xmm1
	ret
.lt16:
	cmp	edx, 8
	jb	.lt8
	mov	rcx, [rsi]
	mov	r8, [rsi + rdx - 8]
	mov	[rdi], rcx
	mov	[rdi + rdx - 8], r8
	ret
.lt8:
	cmp	edx, 4
	jb	.lt4
	mov	ecx, [rsi]
	mov	r8d, [rsi + rdx - 4]
	mov	[rdi], ecx
	mov	[rdi + rdx - 4], r8d
	ret
.lt4:                                   ; bytes 0, n/2 and n-1 cover n = 1..3
	test	edx, edx
	jz	.done
	mov	r9, rdx
	shr	r9, 1
	movzx	ecx, byte [rsi]
	movzx	r8d, byte [rsi + r9]
	movzx	r10d, byte [rsi + rdx - 1]
	mov	[rdi], cl
	mov	[rdi + r9], r8b
	mov	[rdi + rdx - 1], r10b
.done:
	ret

; n > 32, copying upwards.  Safe for memmove whenever dst < src: each
; iteration loads all its bytes before it stores, and reads only bytes that
; no earlier store has reached.  The last 16 source bytes are loaded first
; and stored last; 64 bytes per iteration, then 16.
copy_forward_big:
	movdqu	xmm2, [rsi + rdx - 16]
	lea	r8, [rdi + rdx - 16]            ; where the tail goes
	cmp	rdx, 64
	jbe	.by16
.by64:
	movdqu	xmm0, [rsi]
	movdqu	xmm1, [rsi + 16]
	movdqu	xmm3, [rsi + 32]
	movdqu	xmm4, [rsi + 48]
	movdqu	[rdi], xmm0
	movdqu	[rdi + 16], xmm1
	movdqu	[rdi + 32], xmm3
	movdqu	[rdi + 48], xmm4
	add	rsi, 64
	add	rdi, 64
	sub	rdx, 64
	cmp	rdx, 64
	ja	.by64
.by16:
	cmp	rdx, 16
	jbe	.tail
	movdqu	xmm0, [rsi]
	movdqu	[rdi], xmm0
	add	rsi, 16
	add	rdi, 16
	sub	rdx, 16
	jmp	.by16
.tail:
	movdqu	[r8], xmm2
	ret
BA_END

; void *memmove(void *dst, const void *src, size_t n)
BA_FUNC memmove
	mov	rax, rdi
	cmp	rdx, 32
	jbe	copy_small
	mov	rcx, rdi
	sub	rcx, rsi
	cmp	rcx, rdx                        ; dst - src >= n: upwards is safe
	jae	copy_forward_big
	; src < dst < src + n: copy downwards, the first 16 bytes loaded first
	; and stored last.
	movdqu	xmm2, [rsi]
	mov	r8, rdi
.loop:
	movdqu	xmm0, [rsi + rdx - 16]
	movdqu	[rdi + rdx - 16], xmm0
	sub	rdx, 16
	cmp	rdx, 16
	ja	.loop
	movdqu	[r8], xmm2
	ret
BA_END

; void *memset(void *dst, int c, size_t n)
;   rdi = dst, esi = c, rdx = n; returns dst in rax
BA_FUNC memset
	mov	rax, rdi
	movzx	ecx, sil
	mov	r8, 0x0101010101010101
	imul	rcx, r8                         ; c in every byte
	cmp	rdx, 16
	jb	.lt16
	movq	xmm0, rcx
	punpcklqdq xmm0, xmm0
	movdqu	[rdi + rdx - 16], xmm0          ; tail first; the loops may overlap it
	cmp	rdx, 64
	jbe	.by16
.by64:
	movdqu	[rdi], xmm0
	movdqu	[rdi + 16], xmm0
	movdqu	[rdi + 32], xmm0
	movdqu	[rdi + 48], xmm0
	add	rdi, 64
	sub	rdx, 64
	cmp	rdx, 64
	ja	.by64
.by16:
	cmp	rdx, 16
	jbe	.done16
	movdqu	[rdi], xmm0
	add	rdi, 16
	sub	rdx, 16
	jmp	.by16
.done16:
	ret
.lt16:
	cmp	edx, 8
	jb	.lt8
	mov	[rdi], rcx
	mov	[rdi + rdx - 8], rcx
	ret
.lt8:
	cmp	edx, 4
	jb	.lt4
	mov	[rdi], ecx
	mov	[rdi + rdx - 4], ecx
	ret
.lt4:                                   ; bytes 0, n/2 and n-1 cover n = 1..3
	test	edx, edx
	jz	.done
	mov	r9, rdx
	shr	r9, 1
	mov	[rdi], cl
	mov	[rdi + r9], cl
	mov	[rdi + rdx - 1], cl
.done:
	ret
BA_END

; int memcmp(const void *a, const void *b, size_t n)
;   rdi = a, rsi = b, rdx = n; returns the difference of the first unequal
;   bytes as unsigned chars, or 0
BA_FUNC memcmp
	cmp	rdx, 16
	jb	.bytes
.loop:
	movdqu	xmm0, [rdi]
	movdqu	xmm1, [rsi]
	pcmpeqb	xmm0, xmm1
	pmovmskb ecx, xmm0
	xor	ecx, 0xffff                     ; a 1 bit for each unequal byte
	jnz	.differ
	add	rdi, 16
	add	rsi, 16
	sub	rdx, 16
	cmp	rdx, 16
	jae	.loop
	test	rdx, rdx
	jz	.equal
	; 1..15 bytes left: compare the last 16, which overlap bytes known equal
	lea	rdi, [rdi + rdx - 16]
	lea	rsi, [rsi + rdx - 16]
	mov	edx, 16
	jmp	.loop
.differ:
	bsf	ecx, ecx
	movzx	eax, byte [rdi + rcx]
	movzx	edx, byte [rsi + rcx]
	sub	eax, edx
	ret
.bytes:
	test	rdx, rdx
	jz	.equal
.byte_loop:
	movzx	eax, byte [rdi]
	movzx	ecx, byte [rsi]
	sub	eax, ecx
	jnz	.done
	inc	rdi
	inc	rsi
	dec	rdx
	jnz	.byte_loop
.done:
	ret
.equal:
	xor	eax, eax
	ret
BA_END

BA_NOEXEC_STACK
