; The fast paths of malloc and free on x86-64: alloc/fast.c scheduled by
; hand.  That file is the reference: it says what each step checks and why,
; and tests/fast.c runs both on the same heap states and compares every
; byte they change.  Offsets and constants come from layout.inc, which the
; build makes from the C structures (alloc/layout.c).
;
; Registers (System V): rdi = the argument, rax = the result; rcx, rdx,
; rsi are scratch.  Neither function makes a stack frame: the slow paths
; are tail calls with the argument still in rdi.  Addresses of _ba_state
; are absolute: the static library is linked at a fixed address.  The
; caller's heap is the word TLS_HEAP of its thread control block, at
; %fs:TLS_HEAP (alloc/os.h).
%include "barealloc.inc"
%include "layout.inc"

extern _ba_state, _ba_malloc_slow, _ba_free_slow, _ba_run_trigger_locked, _ba_remote_free_small

%define RUN_STATE(i) RUN_SLOT + SLOT_STATE + i * 4

; void *malloc(size_t n)
; Budget: 22 instructions up to 256 bytes, 29 up to 64 KiB, ret included
; (callgrind; with free, 59 and 66 per pair in make bench).
BA_FUNC malloc
	lea	rax, [rdi - 1]          ; m = n - 1; n = 0 wraps to the slow path
	cmp	rax, 255
	ja	.above_256
	shr	eax, 4                  ; the class: 16-byte steps
.class:
	mov	rcx, [fs:TLS_HEAP]      ; the caller's heap
	mov	rcx, [rcx + HEAP_BINS + rax * 8]       ; r, the head run
	test	rcx, rcx
	jz	.slow                   ; no run yet
	mov	eax, [rcx + RUN_HEAD]
	cmp	eax, [rcx + RUN_GATE]
	jns	.slow                   ; head - gate >= 0: nothing out of quarantine
	and	eax, [rcx + RUN_MASK]
	movzx	edx, word [rcx + RUN_SLOT + rax * 4]   ; idx, the oldest free block
	add	dword [rcx + RUN_HEAD], 1
	mov	esi, [rcx + RUN_SIZE]
	mov	eax, esi
	imul	eax, edx                ; idx * size < 2^19
	add	rax, [rcx + RUN_BASE]   ; the block
	sub	esi, edi                ; slack = size - n
	mov	[rcx + RUN_STATE(rdx)], si
	jnz	.canary                 ; (flags of the sub)
	ret
.canary:                                ; the byte past the request, and the run's slack sum
	add	[rcx + RUN_SLACK], esi
	add	rdi, rax                ; p + n
	mov	rdx, rdi
	shr	rdx, 4
	xor	rdx, [_ba_state + STATE_SECRET]
	or	edx, 1
	mov	[rdi], dl
	ret
.above_256:
	cmp	rax, SMALL_MAX - 1
	ja	.slow
	bsr	rdx, rax                ; l = log2(m), 8..15
	lea	ecx, [rdx - 3]
	shr	eax, cl
	and	eax, 7
	lea	eax, [rax + rdx * 8 - 48]       ; 8 classes per doubling from 256
	jmp	.class
.slow:
	jmp	_ba_malloc_slow
BA_END

; void free(void *p)
; Budget: 37 instructions for a block of the caller's heap that its request
; filled: the map 17, index and block-start test 5, state 3, owner 3,
; ring, gate and trigger 8, ret; 14 more for one with slack, whose canary
; is checked here.  Another heap's block goes to its owner's list.
BA_FUNC free
	mov	rax, rdi
	shr	rax, MAP_L1_SHIFT
	cmp	rax, MAP_L1_COUNT - 1
	ja	.slow                   ; beyond the user address space
	mov	rdx, [_ba_state + STATE_MAP + rax * 8]
	test	rdx, rdx
	jz	.slow
	mov	rax, rdi
	shr	rax, ARENA_SHIFT
	and	eax, MAP_L2_MASK
	mov	rdx, [rdx + rax * 8]    ; the arena
	test	rdx, rdx
	jz	.slow                   ; in no arena: NULL, large, or not ours
	mov	rax, rdi
	shr	rax, PAGE_SHIFT
	and	eax, ARENA_PAGES - 1
	mov	rcx, [rdx + ARENA_TAB + rax * 8]       ; r: a run, or a kind descriptor (magic 0)
	mov	rax, rdi
	sub	rax, [rcx + RUN_BASE]
	mul	qword [rcx + RUN_MAGIC] ; rdx = the index, rax < magic for a block start
	cmp	rax, [rcx + RUN_MAGIC]
	jae	.slow
	cmp	word [rcx + RUN_STATE(rdx)], 0
	jne	.slack                  ; free, past the last block, or slack to check
	mov	rax, [fs:TLS_HEAP]
	cmp	rax, [rcx + RUN_HEAP]
	jne	.remote0                ; another heap's block
.put:
	or	dword [rcx + RUN_SLOT + rdx * 4], STATE_FREE << 16
	mov	eax, [rcx + RUN_TAIL]
	mov	esi, eax
	and	esi, [rcx + RUN_MASK]
	mov	[rcx + RUN_SLOT + rsi * 4], dx  ; ring[tail & mask] = idx, before tail moves (fork)
	add	dword [rcx + RUN_TAIL], 1
	add	dword [rcx + RUN_GATE], 1       ; the oldest quarantined block comes out
	cmp	eax, [rcx + RUN_TRIGGER]
	je	.trigger                ; (the old tail)
	ret
.trigger:
	mov	rdi, rcx
	jmp	_ba_run_trigger_locked  ; the slow path: under the heap's lock
.slack:                                 ; live with slack: the canary, past the request
	movzx	esi, word [rcx + RUN_STATE(rdx)]
	cmp	esi, SLACK_MAX
	ja	.slow                   ; free, or no block there
	mov	eax, [rcx + RUN_SIZE]
	sub	eax, esi
	add	rax, rdi                ; p + n, the canary's byte
	mov	r8, rax
	shr	r8, 4
	xor	r8, [_ba_state + STATE_SECRET]
	or	r8d, 1
	cmp	r8b, [rax]
	jne	.slow                   ; overwritten: the choke point says so
	mov	rax, [fs:TLS_HEAP]
	cmp	rax, [rcx + RUN_HEAP]
	jne	.remote
	sub	[rcx + RUN_SLACK], esi
	jmp	.put
.remote0:
	xor	esi, esi                ; slack 0
.remote:                                ; _ba_remote_free_small(p, r, idx, slack)
	xchg	rsi, rcx
	jmp	_ba_remote_free_small
.slow:
	jmp	_ba_free_slow           ; the choke point, with p in rdi
BA_END

BA_NOEXEC_STACK
