; _start for i386.  The kernel enters with esp pointing at argc, then
; argv[], NULL, envp[], NULL, auxv pairs.  gcc's i386 ABI assumes esp is
; 16-byte aligned at every call instruction.

%include "barealloc.inc"

extern _ba_start_c

BA_FUNC _start
	xor	ebp, ebp                ; the outermost frame: backtraces stop here
	mov	eax, esp
	and	esp, -16
	sub	esp, 12                 ; 12 + the 4-byte argument = 16
	push	eax                     ; _ba_start_c(initial stack)
	call	_ba_start_c             ; never returns
	hlt
BA_END

BA_NOEXEC_STACK
