; A pool from pure NASM on x86-64: a heap over a region of .bss that the
; program gives, at an odd address, so that the pool uses the whole pages
; inside it.  Allocate marked blocks, read their usable sizes, free half,
; count and check, reset, calloc, destroy; then a pool made with
; BA_POOL_REPORT, whose double free is returned as a code, not an abort.
; Every result is checked; the exit status is 0, or the number of the step
; that failed.  Build and run (examples/i386/pool.asm is the same for i386):
;   barealloc-gcc -o pool examples/x86_64/pool.asm && ./pool
%include "barealloc.inc"
%include "../example.inc"

%define N 50                            ; blocks; block i asks for 16 * i + 1 bytes
%define PAGE 4096
%define OFFSET 100                      ; where the region starts, past a page boundary
%define LEN (48 * PAGE)                 ; so the pool has 47 whole pages (a run per size class)

section .rodata
message msg_new,     "ba_pool_new_in: 47 whole pages of a region at an odd address"
message msg_alloc,   "ba_pool_malloc: 50 blocks of 1 .. 785 bytes in those pages, each marked"
message msg_usable,  "ba_pool_usable_size: each exactly what was asked"
message msg_free,    "ba_pool_free: the even blocks; ba_pool_stats counts 25 live, marks intact"
message msg_check,   "ba_pool_check: every invariant holds"
message msg_reset,   "ba_pool_reset: no block left; ba_pool_calloc(100, 10) reads zero"
message msg_report,  "BA_POOL_REPORT: a double free returns BA_POOL_DOUBLE, no abort"
message msg_destroy, "ba_pool_destroy: both pools gone"

section .bss
alignb PAGE
region: resb LEN + PAGE
blocks: resq N
stats:  resb BA_STATS_size

section .text

global main
main:
	push	rbx                     ; rbx: i; r12: the pool; r13: a block
	push	r12
	push	r13                     ; three pushes: rsp 16-byte aligned again

	lea	rdi, [rel region + OFFSET]
	mov	esi, LEN
	xor	edx, edx
	call	ba_pool_new_in
	test	rax, rax
	check	nz, 1
	mov	r12, rax
	mov	rdi, r12
	lea	rsi, [rel stats]
	call	ba_pool_stats
	cmp	qword [rel stats + BA_STATS.mapped], LEN - PAGE
	check	e, 1
	say	msg_new

	xor	ebx, ebx
.alloc:                                 ; blocks[i] = ba_pool_malloc(pool, 16 * i + 1), marked with i
	mov	rdi, r12
	mov	esi, ebx
	shl	esi, 4
	inc	esi
	call	ba_pool_malloc
	test	rax, rax
	check	nz, 2
	lea	rdx, [rel region + PAGE]  ; the first whole page
	cmp	rax, rdx
	check	ae, 2
	lea	rdx, [rel region + LEN]   ; past the last whole page
	mov	ecx, ebx
	shl	ecx, 4
	lea	rcx, [rax + rcx + 1]      ; the block's end
	cmp	rcx, rdx
	check	be, 2
	mov	[blocks + rbx * 8], rax
	mov	[rax], bl
	inc	ebx
	cmp	ebx, N
	jb	.alloc
	say	msg_alloc

	xor	ebx, ebx
.usable:
	mov	rdi, r12
	mov	rsi, [blocks + rbx * 8]
	call	ba_pool_usable_size
	mov	edx, ebx
	shl	edx, 4
	inc	edx
	cmp	rax, rdx
	check	e, 3
	inc	ebx
	cmp	ebx, N
	jb	.usable
	say	msg_usable

	xor	ebx, ebx
.free:
	mov	rdi, r12
	mov	rsi, [blocks + rbx * 8]
	call	ba_pool_free
	test	eax, eax
	check	z, 4
	add	ebx, 2
	cmp	ebx, N
	jb	.free
	mov	rdi, r12
	lea	rsi, [rel stats]
	call	ba_pool_stats
	cmp	qword [rel stats + BA_STATS.live_blocks], N / 2
	check	e, 4
	mov	ebx, 1
.marks:                                 ; the odd blocks keep their marks
	mov	rax, [blocks + rbx * 8]
	cmp	[rax], bl
	check	e, 4
	add	ebx, 2
	cmp	ebx, N
	jb	.marks
	say	msg_free

	mov	rdi, r12
	call	ba_pool_check
	test	eax, eax
	check	z, 5
	say	msg_check

	mov	rdi, r12                ; every block freed at once
	call	ba_pool_reset
	mov	rdi, r12
	lea	rsi, [rel stats]
	call	ba_pool_stats
	cmp	qword [rel stats + BA_STATS.live_blocks], 0
	check	e, 6
	mov	rdi, r12
	mov	esi, 100
	mov	edx, 10
	call	ba_pool_calloc
	test	rax, rax
	check	nz, 6
	mov	rdi, rax                ; every byte zero: scan for one that is not
	mov	ecx, 1000
	xor	eax, eax
	repe	scasb
	check	e, 6
	say	msg_reset

	mov	edi, 65536              ; a mapped pool that reports misuse
	mov	esi, BA_POOL_REPORT
	call	ba_pool_new
	test	rax, rax
	check	nz, 7
	mov	r13, rax
	mov	rdi, r13
	mov	esi, 24
	call	ba_pool_malloc
	test	rax, rax
	check	nz, 7
	mov	rbx, rax
	mov	rdi, r13
	mov	rsi, rbx
	call	ba_pool_free
	test	eax, eax
	check	z, 7
	mov	rdi, r13                ; the same block again: a double free
	mov	rsi, rbx
	call	ba_pool_free
	cmp	eax, BA_POOL_DOUBLE
	check	e, 7
	mov	rdi, r13
	call	ba_pool_error
	cmp	eax, BA_POOL_DOUBLE
	check	e, 7
	mov	rdi, r13
	call	ba_pool_check
	test	eax, eax
	check	z, 7
	say	msg_report

	mov	rdi, r13
	call	ba_pool_destroy
	mov	rdi, r12
	call	ba_pool_destroy
	say	msg_destroy

	xor	ecx, ecx
fail:                                   ; ecx: 0, or the failed step
	mov	eax, ecx
	pop	r13
	pop	r12
	pop	rbx
	ret

BA_NOEXEC_STACK
