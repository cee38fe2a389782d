#!/bin/sh
# The hosted programs of tests/preload/ on one ISA and runner, with
# build/<isa>/libbarealloc.so preloaded (dlopen without it), and the checks
# made from outside a preloaded process: misuse ends it with barealloc's
# line and SIGABRT, BAREALLOC_FOREIGN=leak and BAREALLOC_STATS=1 act.
# Prints [OK], [FAIL] and [SKIP] lines for tests/run.sh to count.
#   usage: tests/preload/suite.sh BUILD_DIR ISA RUNNER   (RUNNER: native or qemu-<isa>)

build=${1:?usage: suite.sh BUILD_DIR ISA RUNNER} isa=${2:?} runner=${3:?}
bin=$build/$isa/preload-tests
so=$(cd "$build/$isa" && pwd)/libbarealloc.so
out=$build/$isa/preload-$runner.tmp
case $runner in native) wrap= ;; *) wrap=$runner ;; esac

# Runs a program with the preload and the given VAR=value words: through
# the environment natively, through qemu's -E under qemu-user (the
# emulator itself must not load the library).
preloaded() { # [VAR=value...] -- program [args...]
	vars=
	while [ "$1" != -- ]; do vars="$vars $1"; shift; done
	shift
	if [ -z "$wrap" ]; then
		env -i BA_TEST_RUNNER=native ${BA_TEST_SEED:+BA_TEST_SEED=$BA_TEST_SEED} LD_PRELOAD="$so" $vars "$@"
	else
		# barealloc reads its options from /proc/self/environ, which
		# under qemu-user is the emulator's: they go there too.
		qe=
		for v in LD_PRELOAD="$so" $vars; do qe="$qe -E $v"; done
		env -i BA_TEST_RUNNER="$runner" ${BA_TEST_SEED:+BA_TEST_SEED=$BA_TEST_SEED} $vars $wrap $qe "$@"
	fi
}

# A program's own [OK]/[FAIL] lines, and one failure more when it died
# or failed without saying why.
run_program() { # name command...
	name=$1; shift
	"$@" > "$out" 2>&1
	status=$?
	cat "$out"
	if [ "$status" -ne 0 ] && ! grep -q '^\[FAIL\]' "$out"; then
		echo "[FAIL] $name: exited with status $status and reported no failure: $(grep -v '^\[OK\]\|^#' "$out" | head -3 | tr '\n' ' ')"
	elif ! grep -q '^\[OK\]\|^\[FAIL\]' "$out"; then
		echo "[FAIL] $name: ran no case"
	fi
}

run_program threads preloaded -- "$bin/threads"
run_program conform preloaded -- "$bin/conform"
run_program early preloaded -- "$bin/early"
run_program stdio_fork preloaded -- "$bin/stdio_fork"
run_program dlopen env -i BA_TEST_RUNNER="$runner" $wrap "$bin/dlopen" "$so"

# Misuse, seen from outside: the status of a death by SIGABRT (128 + 6,
# as the shell reports it; qemu-user kills itself with the guest's
# signal) and exactly one line on fd 2, naming the pointer the program
# printed.  qemu-user's own "qemu: uncaught target signal" line is not
# the program's.
misuse() { # mode why
	preloaded -- "$bin/conform" "$1" > "$out" 2> "$out.err"
	status=$?
	ptr=$(sed -n 's/^# pointer //p' "$out")
	err=$(grep -v '^qemu: \|^Aborted' "$out.err")
	want="barealloc: free($ptr): $2"
	if [ "$status" -eq 134 ] && [ -n "$ptr" ] && [ "$err" = "$want" ]; then
		echo "[OK]   outside: $1: SIGABRT and \"$want\""
	else
		echo "[FAIL] outside: $1: status $status, stderr \"$err\"; want 134 and \"$want\""
	fi
}
misuse double-free "double free"
misuse foreign-free "invalid pointer (not from barealloc)"

# BAREALLOC_FOREIGN=leak: free of foreign pointers returns; the program's
# own lines say the rest, and it exits with 0.
run_program foreign-leak preloaded BAREALLOC_FOREIGN=leak -- "$bin/conform" foreign-leak
run_program foreign-first preloaded BAREALLOC_FOREIGN=leak -- "$bin/early" foreign-first
preloaded BAREALLOC_FOREIGN=leakx -- "$bin/conform" foreign-free > /dev/null 2>&1
status=$?
if [ "$status" -eq 134 ]; then echo "[OK]   outside: BAREALLOC_FOREIGN=leakx is not the option: free aborts"
else echo "[FAIL] outside: BAREALLOC_FOREIGN=leakx: status $status, want 134 (SIGABRT)"; fi

# BAREALLOC_STATS=1: one line at exit, on fd 2, and none without it.
stats() { # expected-lines VAR=value...
	want=$1; shift
	preloaded "$@" -- "$bin/conform" stats > "$out" 2> "$out.err"
	status=$?
	lines=$(grep -c '^barealloc: live blocks [0-9]*, in use [0-9]* B, mapped [0-9]* B (peak [0-9]* B, metadata [0-9]* B), mmap [0-9]*, munmap [0-9]*, mremap [0-9]*, madvise [0-9]*$' "$out.err")
	others=$(grep -v '^barealloc: live blocks' "$out.err" | grep -vc '^qemu: ')
	if [ "$status" -eq 0 ] && [ "$lines" -eq "$want" ] && [ "$others" -eq 0 ]; then
		echo "[OK]   outside: ${1:-no option}: $want line(s) of statistics at exit"
	else
		echo "[FAIL] outside: ${1:-no option}: status $status, $lines statistics line(s) and $others other line(s) on fd 2, want $want: $(head -2 "$out.err" | tr '\n' ' ')"
	fi
}
stats 1 BAREALLOC_STATS=1
stats 0
stats 0 BAREALLOC_STATS=0
rm -f "$out" "$out.err"
