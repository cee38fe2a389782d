; _start for x86-64.  The kernel enters with rsp pointing at argc, then
; argv[], NULL, envp[], NULL, auxv pairs; rbp is unspecified and rdx holds
; an atexit function only when a dynamic loader ran (never here).

%include "barealloc.inc"

extern _ba_start_c

BA_FUNC _start
	xor	ebp, ebp                ; the outermost frame: backtraces stop here
	mov	rdi, rsp                ; _ba_start_c(initial stack)
	and	rsp, -16                ; the ABI wants rsp % 16 == 0 at a call
	call	_ba_start_c             ; never returns
	hlt
BA_END

BA_NOEXEC_STACK
