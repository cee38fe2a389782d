; The allocator from pure NASM on x86-64, as the small assembly allocators
; barealloc grew out of were used: initialise, allocate, read the usable
; size, grow with realloc, calloc, free, and release everything at once.
; Every result is checked; the exit status is 0, or the number of the step
; that failed.  Build and run (examples/i386/heap.asm is the same for i386):
;   barealloc-gcc -o heap examples/x86_64/heap.asm && ./heap
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

section .bss                            ; absolute addresses: the program is static, at 0x400000
blocks: resq N
stats:  resb BA_STATS_size

section .text

global main
main:
	push	rbx                     ; rbx: i; r12: the calloc block
	push	r12
	push	r13                     ; three pushes: rsp 16-byte aligned again
	call	ba_init
	say	msg_init

	xor	ebx, ebx
.alloc:                                 ; blocks[i] = malloc(16 * i + 1), marked with i
	mov	edi, ebx
	shl	edi, 4
	inc	edi
	call	malloc
	test	rax, rax
	check	nz, 1
	mov	[blocks + rbx * 8], rax
	mov	[rax], bl
	inc	ebx
	cmp	ebx, N
	jb	.alloc
	say	msg_alloc

	xor	ebx, ebx
.usable:
	mov	rdi, [blocks + rbx * 8]
	call	malloc_usable_size
	mov	edx, ebx
	shl	edx, 4
	inc	edx
	cmp	rax, rdx
	check	e, 2
	inc	ebx
	cmp	ebx, N
	jb	.usable
	say	msg_usable

	xor	ebx, ebx
.grow:                                  ; blocks[i] = realloc(blocks[i], 4 * size)
	mov	rdi, [blocks + rbx * 8]
	mov	esi, ebx
	shl	esi, 6
	add	esi, 4
	call	realloc
	test	rax, rax
	check	nz, 3
	cmp	[rax], bl
	check	e, 3
	mov	[blocks + rbx * 8], rax
	add	ebx, 3
	cmp	ebx, N
	jb	.grow
	say	msg_grow

	mov	edi, 1000
	mov	esi, 8
	call	calloc
	test	rax, rax
	check	nz, 4
	mov	r12, rax
	mov	rdi, rax                ; every byte zero: scan for one that is not
	mov	ecx, 8000
	xor	eax, eax
	repe	scasb
	check	e, 4
	say	msg_calloc

	xor	ebx, ebx
.free:
	mov	rdi, [blocks + rbx * 8]
	call	free
	add	ebx, 2
	cmp	ebx, N
	jb	.free
	lea	rdi, [rel stats]
	call	ba_stats
	cmp	qword [rel stats + BA_STATS.live_blocks], N / 2 + 1
	check	e, 5
	say	msg_free

	call	ba_check
	test	eax, eax
	check	z, 6
	say	msg_check

	call	ba_release_all          ; every block freed at once
	lea	rdi, [rel stats]
	call	ba_stats
	cmp	qword [rel stats + BA_STATS.mapped], 0
	check	e, 7
	say	msg_release

	mov	edi, 100
	call	malloc
	test	rax, rax
	check	nz, 8
	mov	rdi, rax
	call	free
	say	msg_again

	xor	ecx, ecx
fail:                                   ; ecx: 0, or the failed step
	mov	eax, ecx
	pop	r13
	pop	r12
	pop	rbx
	ret

BA_NOEXEC_STACK
