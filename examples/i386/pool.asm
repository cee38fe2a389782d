; A pool from pure NASM on i386: a heap over a region of .bss that the
; program gives, at an odd address, so that the pool uses the whole pages
; inside it.  Allocate marked blocks, read their usable sizes, free half,
; count and check, reset, calloc, destroy; then a pool made with
; BA_POOL_REPORT, whose double free is returned as a code, not an abort.
; Every result is checked; the exit status is 0, or the number of the step
; that failed.  The same program as examples/x86_64/pool.asm, in the cdecl
; convention: arguments pushed right to left, the caller pops, esp 16-byte
; aligned at each call.  Build and run:
;   barealloc-gcc -m32 -o pool examples/i386/pool.asm && ./pool
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
blocks: resd N
stats:  resb BA_STATS_size

section .text

global main
main:
	push	ebx                     ; ebx: i; esi: the pool; edi: a block, then the second pool
	push	esi
	push	edi                     ; three pushes: esp 16-byte aligned again

	call3	ba_pool_new_in, region + OFFSET, LEN, 0
	test	eax, eax
	check	nz, 1
	mov	esi, eax
	call2	ba_pool_stats, esi, stats
	cmp	dword [stats + BA_STATS.mapped], LEN - PAGE
	check	e, 1
	say	msg_new

	xor	ebx, ebx
.alloc:                                 ; blocks[i] = ba_pool_malloc(pool, 16 * i + 1), marked with i
	mov	edi, ebx
	shl	edi, 4
	inc	edi
	call2	ba_pool_malloc, esi, edi
	test	eax, eax
	check	nz, 2
	cmp	eax, region + PAGE      ; the first whole page
	check	ae, 2
	lea	edx, [eax + edi]        ; the block's end
	cmp	edx, region + LEN       ; past the last whole page
	check	be, 2
	mov	[blocks + ebx * 4], eax
	mov	[eax], bl
	inc	ebx
	cmp	ebx, N
	jb	.alloc
	say	msg_alloc

	xor	ebx, ebx
.usable:
	call2	ba_pool_usable_size, esi, dword [blocks + ebx * 4]
	mov	edx, ebx
	shl	edx, 4
	inc	edx
	cmp	eax, edx
	check	e, 3
	inc	ebx
	cmp	ebx, N
	jb	.usable
	say	msg_usable

	xor	ebx, ebx
.free:
	call2	ba_pool_free, esi, dword [blocks + ebx * 4]
	test	eax, eax
	check	z, 4
	add	ebx, 2
	cmp	ebx, N
	jb	.free
	call2	ba_pool_stats, esi, stats
	cmp	dword [stats + BA_STATS.live_blocks], N / 2
	check	e, 4
	mov	ebx, 1
.marks:                                 ; the odd blocks keep their marks
	mov	eax, [blocks + ebx * 4]
	cmp	[eax], bl
	check	e, 4
	add	ebx, 2
	cmp	ebx, N
	jb	.marks
	say	msg_free

	call1	ba_pool_check, esi
	test	eax, eax
	check	z, 5
	say	msg_check

	call1	ba_pool_reset, esi      ; every block freed at once
	call2	ba_pool_stats, esi, stats
	cmp	dword [stats + BA_STATS.live_blocks], 0
	check	e, 6
	call3	ba_pool_calloc, esi, 100, 10
	test	eax, eax
	check	nz, 6
	mov	edi, eax                ; every byte zero: scan for one that is not
	mov	ecx, 1000
	xor	eax, eax
	repe	scasb
	check	e, 6
	say	msg_reset

	call2	ba_pool_new, 65536, BA_POOL_REPORT      ; a mapped pool that reports misuse
	test	eax, eax
	check	nz, 7
	mov	edi, eax
	call2	ba_pool_malloc, edi, 24
	test	eax, eax
	check	nz, 7
	mov	ebx, eax
	call2	ba_pool_free, edi, ebx
	test	eax, eax
	check	z, 7
	call2	ba_pool_free, edi, ebx  ; the same block again: a double free
	cmp	eax, BA_POOL_DOUBLE
	check	e, 7
	call1	ba_pool_error, edi
	cmp	eax, BA_POOL_DOUBLE
	check	e, 7
	call1	ba_pool_check, edi
	test	eax, eax
	check	z, 7
	say	msg_report

	call1	ba_pool_destroy, edi
	call1	ba_pool_destroy, esi
	say	msg_destroy

	xor	ecx, ecx
fail:                                   ; ecx: 0, or the failed step
	mov	eax, ecx
	pop	edi
	pop	esi
	pop	ebx
	ret

BA_NOEXEC_STACK
