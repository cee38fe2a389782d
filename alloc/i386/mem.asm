; memcpy, memmove, memset, memcmp for i386.  SSE2 is not part of the i386
; base ISA, so these move 4 bytes at a time with the string instructions.
; The C twin is alloc/mem.c.
;
; cdecl: [esp+4] first argument ...; result in eax; esi and edi are
; callee-saved, so each routine saves the ones it uses.

%include "barealloc.inc"

section .text

; void *memcpy(void *dst, const void *src, size_t n)
BA_FUNC memcpy
	push	esi
	push	edi
	mov	edi, [esp + 12]
	mov	esi, [esp + 16]
	mov	ecx, [esp + 20]
copy_up:                                ; edi = dst, esi = src, ecx = n
	mov	eax, edi
	mov	edx, ecx
	shr	ecx, 2
	rep movsd                               ; element by element: safe when dst < src
	mov	ecx, edx
	and	ecx, 3
	rep movsb
	pop	edi
	pop	esi
	ret
BA_END

; void *memmove(void *dst, const void *src, size_t n)
BA_FUNC memmove
	push	esi
	push	edi
	mov	edi, [esp + 12]
	mov	esi, [esp + 16]
	mov	ecx, [esp + 20]
	mov	eax, edi
	sub	eax, esi
	cmp	eax, ecx                        ; dst - src >= n: upwards is safe
	jae	copy_up
	; src < dst < src + n: copy downwards, from the last byte.
	mov	eax, edi
	lea	esi, [esi + ecx - 1]
	lea	edi, [edi + ecx - 1]
	std
	rep movsb
	cld                                     ; the ABI wants DF clear on return
	pop	edi
	pop	esi
	ret
BA_END

; void *memset(void *dst, int c, size_t n)
BA_FUNC memset
	push	edi
	mov	edi, [esp + 8]
	movzx	eax, byte [esp + 12]
	mov	ecx, [esp + 16]
	imul	eax, eax, 0x01010101            ; c in every byte
	mov	edx, ecx
	shr	ecx, 2
	rep stosd
	mov	ecx, edx
	and	ecx, 3
	rep stosb
	mov	eax, [esp + 8]
	pop	edi
	ret
BA_END

; int memcmp(const void *a, const void *b, size_t n)
BA_FUNC memcmp
	push	esi
	push	edi
	mov	esi, [esp + 12]
	mov	edi, [esp + 16]
	mov	ecx, [esp + 20]
.words:
	cmp	ecx, 4
	jb	.bytes
	mov	eax, [esi]
	cmp	eax, [edi]
	jne	.last_word                      ; the difference is in these 4 bytes
	add	esi, 4
	add	edi, 4
	sub	ecx, 4
	jmp	.words
.last_word:
	mov	ecx, 4
.bytes:
	xor	eax, eax
	test	ecx, ecx
	jz	.done
.byte_loop:
	movzx	eax, byte [esi]
	movzx	edx, byte [edi]
	sub	eax, edx
	jnz	.done
	inc	esi
	inc	edi
	dec	ecx
	jnz	.byte_loop
.done:
	pop	edi
	pop	esi
	ret
BA_END

BA_NOEXEC_STACK
