#!/bin/sh
# Runs every test program of every ISA on every runner and prints one
# summary line, "N passed, N failed", counted over all of them.
#   usage: ISAS="x86_64 i386" TESTS="start ..." tests/run.sh BUILD_DIR
# Runners per ISA: native, and under qemu-<isa>.  Each case is one line of a
# program's output ([OK], [FAIL], or [SKIP] with the reason a runner cannot
# run it); a program that dies or exits non-zero
# without a [FAIL] line counts as one more failure.  Failures are printed
# in full, prefixed with the ISA, the runner and the test; everything is
# logged in BUILD_DIR/<isa>/check-<runner>.log.

build=${1:?usage: tests/run.sh BUILD_DIR}
pass=0
fail=0
skip=0

ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "[FAIL] $*"; }

# The environment and arguments every program gets; tests/start.c checks
# that they arrive exactly like this.
run_prog() { # runner wrapper program [args...]: runs with a clean environment
	runner=$1 wrap=$2; shift 2
	env -i BA_TEST_ENV='one two' BA_TEST_EMPTY= BA_TEST_RUNNER="$runner" \
		${BA_TEST_SEED:+BA_TEST_SEED=$BA_TEST_SEED} $wrap "$@"
}

run_suite() { # isa runner wrapper
	isa=$1 runner=$2 wrap=$3
	log=$build/$isa/check-$runner.log
	: > "$log"
	for t in $TESTS; do
		[ "$t" = exitcode ] && continue
		prog=$build/$isa/tests/$t
		out=$(run_prog "$runner" "$wrap" "$prog" alpha 'two words' '' 2>&1)
		status=$?
		printf '%s\n' "$out" >> "$log"
		n_ok=$(printf '%s\n' "$out" | grep -c '^\[OK\]')
		n_fail=$(printf '%s\n' "$out" | grep -c '^\[FAIL\]')
		n_skip=$(printf '%s\n' "$out" | grep -c '^\[SKIP\]')
		pass=$((pass + n_ok))
		fail=$((fail + n_fail))
		skip=$((skip + n_skip))
		printf '%s\n' "$out" | grep '^\[FAIL\]\|^\[SKIP\]' |
			sed "s#^\[\(FAIL\|SKIP\)\] #[\1] $isa $runner $t: #"
		if [ "$status" -ne 0 ] && [ "$n_fail" -eq 0 ]; then
			bad "$isa $runner $t: exited with status $status and reported no failure"
		elif [ "$n_ok" -eq 0 ] && [ "$n_fail" -eq 0 ]; then
			bad "$isa $runner $t: ran no case"
		fi
		printf '%-7s %-12s %-10s %4d passed, %d failed, %d skipped\n' \
			"$isa" "$runner" "$t" "$n_ok" "$n_fail" "$n_skip"
	done
	# The examples check what they do and exit with 0 when all went well.
	eval examples=\$EXAMPLES_$isa
	for e in $examples; do
		out=$(run_prog "$runner" "$wrap" "$build/$isa/examples/$e" 2>&1)
		status=$?
		printf '%s\n' "$out" >> "$log"
		if [ "$status" -eq 0 ]; then ok; else
			bad "$isa $runner example $e: exited with status $status"; fi
	done
	# main's return value reaches the shell as exit_group's status & 255.
	for n in 0 1 42 255 256 -1; do
		run_prog "$runner" "$wrap" "$build/$isa/tests/exitcode" "$n" >/dev/null 2>&1
		got=$?
		want=$(( (n + 256) % 256 ))
		if [ "$got" -eq "$want" ]; then ok; else
			bad "$isa $runner exitcode: main returned $n, status $got, want $want"; fi
	done
}

# Every built executable is static: ET_EXEC of the right class, no
# PT_INTERP, no PT_DYNAMIC, no undefined symbol.
check_static() { # isa
	isa=$1
	case $isa in x86_64) class=ELF64 ;; *) class=ELF32 ;; esac
	for prog in $(find "$build/$isa/tests" "$build/$isa/examples" -type f -perm -u+x ! -name '*.*'); do
		hdr=$(readelf -hlW "$prog" 2>&1)
		why=
		printf '%s\n' "$hdr" | grep -q "Class: *$class" || why="$why not $class;"
		printf '%s\n' "$hdr" | grep -q 'Type: *EXEC' || why="$why not ET_EXEC;"
		printf '%s\n' "$hdr" | grep -q 'INTERP' && why="$why has PT_INTERP;"
		printf '%s\n' "$hdr" | grep -q 'DYNAMIC' && why="$why has PT_DYNAMIC;"
		und=$(nm -u "$prog" 2>&1)
		[ -n "$und" ] && why="$why undefined: $(echo $und);"
		if [ -z "$why" ]; then ok; else bad "$isa static ${prog#$build/}:$why"; fi
	done
}

# The library's global names are the public API (declared in
# inc/barealloc.h, inc/ba_thread.h, inc/ba_pool.h or inc/ba_sys.h) and _start; every other one has the
# reserved prefix _ba_ and is hidden.  tests/namespace.c links a program
# that defines the names barealloc used before.
check_exports() { # isa
	lib=$build/$1/libbarealloc.a
	names=$(readelf -sW "$lib" | awk '($5 == "GLOBAL" || $5 == "WEAK") && $7 != "UND" { print $8 ":" $6 }' | sort -u)
	why=
	for nv in $names; do
		name=${nv%:*} vis=${nv#*:}
		case $name in
		_ba_*) [ "$vis" = HIDDEN ] || why="$why $name is $vis;" ;;
		_start) ;;
		*) grep -qw -- "$name" inc/barealloc.h inc/ba_thread.h inc/ba_pool.h inc/ba_sys.h || why="$why $name;" ;;
		esac
	done
	if [ -n "$names" ] && [ -z "$why" ]; then ok; else bad "$1 ${lib#$build/} exports what no public header declares:$why"; fi
}

# inc/barealloc.inc declares every function and object of inc/barealloc.h,
# inc/ba_thread.h, inc/ba_pool.h and inc/ba_sys.h (but the compiler's __ helpers, static
# inlines, and errno, which is thread-local: NASM calls ba_errno_location).
check_nasm_api() { # isa
	case $1 in x86_64) m=-m64 fmt=elf64 ;; *) m=-m32 fmt=elf32 ;; esac
	c_names=$( { printf '#include "barealloc.h"\n#include "ba_thread.h"\n#include "ba_pool.h"\n#include "ba_sys.h"\n' |
		gcc $m -nostdinc -Iinc -fsyntax-only -aux-info /dev/stdout -x c - 2>/dev/null |
		grep 'inc/' | grep -v 'static' | sed 's/.*[ *]\([A-Za-z_][A-Za-z0-9_]*\) *(.*/\1/'
		grep -v _Thread_local inc/barealloc.h inc/ba_thread.h inc/ba_pool.h inc/ba_sys.h |
		sed -n 's/^[^:]*:extern [^(]*[ *]\([A-Za-z_][A-Za-z0-9_]*\);.*/\1/p'; } |
		grep -v '^__' | sort -u)
	nasm_names=$(nasm -E -f $fmt -Iinc/ inc/barealloc.inc | sed -n 's/^\[extern \(.*\)\]$/\1/p')
	missing=
	for n in $c_names; do
		printf '%s\n' "$nasm_names" | grep -qx "$n" || missing="$missing $n"
	done
	if [ -n "$c_names" ] && [ -z "$missing" ]; then ok; else bad "$1 inc/barealloc.inc lacks:$missing"; fi
}

# make install into a scratch prefix, then build from what it installed, as
# a user would: bench/size.c (standard C) and the NASM example with the
# installed barealloc-gcc, in one line and as -c then a link, and with
# pkg-config; each program must run and exit with 0.
check_install() {
	prefix=$(cd "$build" && pwd)/prefix
	log=$build/install.log
	rm -rf "$prefix"
	if ! $MAKE --no-print-directory install PREFIX="$prefix" > "$log" 2>&1; then
		bad "make install PREFIX=$prefix failed: $log"; return
	fi
	ok
	cc=$prefix/bin/barealloc-gcc
	for isa in $ISAS; do
		case $isa in x86_64) m=-m64 ;; *) m=-m32 ;; esac
		o=$prefix/try-$isa
		try "$isa: barealloc-gcc $m -o size bench/size.c" "$o-size" \
			"$cc" $m -O2 -o "$o-size" bench/size.c
		try "$isa: barealloc-gcc $m -c, then a separate link" "$o-size2" \
			sh -c "'$cc' $m -O2 -c bench/size.c -o '$o.o' && '$cc' $m -o '$o-size2' '$o.o'"
		try "$isa: barealloc-gcc $m on the NASM example" "$o-heap" \
			"$cc" $m -o "$o-heap" examples/$isa/heap.asm
		pc="env PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config"
		try "$isa: gcc with pkg-config barealloc-$isa" "$o-pc" \
			sh -c "gcc \$($pc --cflags barealloc-$isa) -O2 -c bench/size.c -o '$o-pc.o' &&
				gcc -o '$o-pc' '$o-pc.o' \$($pc --libs barealloc-$isa)"
	done
}

try() { # what program command...: build with the command, then run the program
	what=$1 prog=$2; shift 2
	if ! "$@" >> "$log" 2>&1; then bad "install $what: the build failed ($log)"; return; fi
	run_prog native "" "$prog" > /dev/null 2>&1
	status=$?
	if [ "$status" -eq 0 ]; then ok; else bad "install $what: the program exited with $status"; fi
}

# The shared objects link no libc, stay loaded, and export their API
# alone: the pools' object the pool API; the preload library the family
# under glibc's names, glibc's tuning calls and barealloc's ba_* calls,
# never the byte loops, the stubs or _start.
check_so() { # isa
	so_exports "$1" libbarealloc-pool.so '^ba_pool_\|^ba_check_name$'
	so_exports "$1" libbarealloc.so '^\(malloc\|free\|calloc\|realloc\|reallocarray\|aligned_alloc\|posix_memalign\|memalign\|valloc\|pvalloc\|malloc_usable_size\|free_sized\|free_aligned_sized\|cfree\|__libc_\(malloc\|free\|calloc\|realloc\|memalign\|valloc\|pvalloc\)\|__posix_memalign\|mallopt\|malloc_trim\|ba_stats\|ba_check\|ba_check_name\|ba_release_all\|ba_pool_.*\)$'
}

so_exports() { # isa file allowed-names
	so=$build/$1/$2
	dyn=$(readelf -dW "$so" 2>&1)
	needed=$(printf '%s\n' "$dyn" | grep -c 'NEEDED\|TEXTREL')
	nodelete=$(printf '%s\n' "$dyn" | grep -c 'FLAGS_1.*NOW NODELETE')
	names=$(nm -D --defined-only "$so" 2>/dev/null | awk '{ print $3 }' | grep -v "$3")
	if [ -f "$so" ] && [ "$needed" -eq 0 ] && [ "$nodelete" -eq 1 ] && [ -z "$names" ]; then ok
	else bad "$1 $2: NEEDED or TEXTREL entries: $needed; NOW NODELETE: $nodelete; exports beyond its API:" $names; fi
}

# python/tests under pytest, with a Python that has it (Debian's python3 and
# python3-pytest; make deps installs it); each test counts as one case.
check_python() {
	py=
	for p in python3 /usr/bin/python3; do
		"$p" -c 'import pytest' >/dev/null 2>&1 && { py=$p; break; }
	done
	if [ -z "$py" ]; then
		skip=$((skip + 1))
		echo "[SKIP] python: no python3 with pytest (sudo apt-get install -y python3 python3-pytest)"
		return
	fi
	log=$build/pytest.log
	PYTHONDONTWRITEBYTECODE=1 "$py" -m pytest -q -rA python/tests > "$log" 2>&1
	n_ok=$(grep -c '^PASSED' "$log")
	n_fail=$(grep -cE '^(FAILED|ERROR)' "$log")
	pass=$((pass + n_ok))
	fail=$((fail + n_fail))
	grep -E '^(FAILED|ERROR)' "$log" | sed 's/^/[FAIL] python: /'
	[ "$n_ok" -gt 0 ] || bad "python: pytest ran no test ($log)"
	printf '%-7s %-12s %-10s %4d passed, %d failed\n' python "$py" pytest "$n_ok" "$n_fail"
}

# The preload library (build/<isa>/libbarealloc.so) in glibc programs:
# tests/preload/suite.sh runs the hosted programs and the checks from
# outside on each ISA and runner, tests/preload/programs.sh real programs
# natively on x86-64.  Each [OK], [FAIL] or [SKIP] line counts as a case.
preload_count() { # label log command...
	label=$1 log=$2; shift 2
	"$@" > "$log" 2>&1
	status=$?
	n_ok=$(grep -c '^\[OK\]' "$log")
	n_fail=$(grep -c '^\[FAIL\]' "$log")
	n_skip=$(grep -c '^\[SKIP\]' "$log")
	pass=$((pass + n_ok))
	fail=$((fail + n_fail))
	skip=$((skip + n_skip))
	grep '^\[FAIL\]\|^\[SKIP\]' "$log" | sed "s#^\[\(FAIL\|SKIP\)\] #[\1] $label: #"
	if { [ "$status" -ne 0 ] && [ "$n_fail" -eq 0 ]; } || [ "$n_ok" -eq 0 ]; then
		bad "$label: exited with status $status after $n_ok cases ($log)"; fi
	printf '%-7s %-12s %-10s %4d passed, %d failed, %d skipped\n' $label "$n_ok" "$n_fail" "$n_skip"
}

check_preload() {
	for isa in $ISAS; do
		eval qemu=\$QEMU_$isa
		for runner in native "$qemu"; do
			preload_count "$isa $runner preload" "$build/$isa/check-preload-$runner.log" \
				sh tests/preload/suite.sh "$build" "$isa" "$runner"
		done
	done
	preload_count "x86_64 native programs" "$build/x86_64/check-preload-programs.log" \
		sh tests/preload/programs.sh "$build"
}

for isa in $ISAS; do
	eval qemu=\$QEMU_$isa
	check_so "$isa"
	check_exports "$isa"
	check_nasm_api "$isa"
	check_static "$isa"
	run_suite "$isa" native ""
	run_suite "$isa" "$qemu" "$qemu"
done

check_install
check_python
check_preload

if [ "$skip" -eq 0 ]; then echo "$pass passed, $fail failed"
else echo "$pass passed, $fail failed, $skip skipped"; fi
[ "$fail" -eq 0 ]
