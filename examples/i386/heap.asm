; The allocator from pure NASM on i386, as the small assembly allocators
; barealloc grew out of were used: initialise, allocate, read the usable
; size, grow with realloc, calloc, free, and release everything at once.
; Every result is checked; the exit status is 0, or the number of the step
; that failed.  The same program as examples/x86_64/heap.asm, in the cdecl
; convention: arguments pushed right to left, the caller pops, esp 16-byte
; aligned at each call.  Build and run:
;   barealloc-gcc -m32 -o heap examples/i386/heap.asm && ./heap
%include "barealloc.inc"
%include "../example.inc"

%define N 100                           ; blocks; block i asks for 16 * i + 1 bytes

section .rodata
message msg_init,    "ba_init"
message msg_alloc,   "malloc: 100 blocks of 1 .. 1585 bytes, each marked"
message msg_usable,  "malloc_usable_size: each exactly what was asked"
message msg_grow,    "realloc: every third block grown four times, its mark kept"
message msg_calloc,  "calloc(1000, 8): 8000 zero bytes"
message msg_free,    "free: the even blocks; ba_stats counts 51 live"
message msg_check,   "ba_check: every invariant holds"
message msg_release, "ba_release_all: every mapping returned"
message msg_again,   "malloc after the release works"

section .bss
blocks: resd N
stats:  resb BA_STATS_size

section .text

global main
main:
	push	ebx                     ; ebx: i; esi: a size
	push	esi
	push	edi                     ; three pushes: esp 16-byte aligned again
	call	ba_init
	say	msg_init

	xor	ebx, ebx
.alloc:                                 ; blocks[i] = malloc(16 * i + 1), marked with i
	mov	esi, ebx
	shl	esi, 4
	inc	esi
	call1	malloc, esi
	test	eax, eax
	check	nz, 1
	mov	[blocks + ebx * 4], eax
	mov	[eax], bl
	inc	ebx
	cmp	ebx, N
	jb	.alloc
	say	msg_alloc

	xor	ebx, ebx
.usable:
	call1	malloc_usable_size, dword [blocks + ebx * 4]
	mov	edx, ebx
	shl	edx, 4
	inc	edx
	cmp	eax, edx
	check	e, 2
	inc	ebx
	cmp	ebx, N
	jb	.usable
	say	msg_usable

	xor	ebx, ebx
.grow:                                  ; blocks[i] = realloc(blocks[i], 4 * size)
	mov	esi, ebx
	shl	esi, 6
	add	esi, 4
	call2	realloc, dword [blocks + ebx * 4], esi
	test	eax, eax
	check	nz, 3
	cmp	[eax], bl
	check	e, 3
	mov	[blocks + ebx * 4], eax
	add	ebx, 3
	cmp	ebx, N
	jb	.grow
	say	msg_grow

	call2	calloc, 1000, 8
	test	eax, eax
	check	nz, 4
	mov	edi, eax                ; every byte zero: scan for one that is not
	mov	ecx, 8000
	xor	eax, eax
	repe	scasb
	check	e, 4
	say	msg_calloc

	xor	ebx, ebx
.free:
	call1	free, dword [blocks + ebx * 4]
	add	ebx, 2
	cmp	ebx, N
	jb	.free
	call1	ba_stats, stats
	cmp	dword [stats + BA_STATS.live_blocks], N / 2 + 1
	check	e, 5
	say	msg_free

	call	ba_check
	test	eax, eax
	check	z, 6
	say	msg_check

	call	ba_release_all          ; every block freed at once
	call1	ba_stats, stats
	cmp	dword [stats + BA_STATS.mapped], 0
	check	e, 7
	say	msg_release

	call1	malloc, 100
	test	eax, eax
	check	nz, 8
	call1	free, eax
	say	msg_again

	xor	ecx, ecx
fail:                                   ; ecx: 0, or the failed step
	mov	eax, ecx
	pop	edi
	pop	esi
	pop	ebx
	ret

BA_NOEXEC_STACK
