#!/bin/sh
# The allocation benchmark behind `make bench` (bench/bench.mk builds the
# binaries first).  Runs the workloads of bench/bench.c for every allocator
# and prints one table; the raw numbers go to BENCH_DIR/results.txt.
#   sh bench/run.sh deps        install the missing tools and peers (as root), or name them
#   sh bench/run.sh BENCH_DIR   measure everything
#   sh bench/run.sh threads BENCH_DIR   only the Threads table (make bench-threads);
#                               its raw numbers go to BENCH_DIR/results-threads.txt
# BENCH_DIR holds bench-barealloc (freestanding, static), bench-hosted
# (glibc; the preloaded peers), bench-musl (musl-gcc -static) and text/, the
# allocator's objects per ISA and optimisation level, listed in text/objects;
# and threads-barealloc and threads-hosted, bench/threads.c's two builds.
set -u

LIBDIR=/usr/lib/x86_64-linux-gnu
MUSL_LIBC=/usr/lib/x86_64-linux-musl/libc.a
PACKAGES="valgrind strace musl-tools libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libc6-dev-i386 sqlite3 python3 perl"
ALLOCATORS="barealloc glibc musl jemalloc mimalloc tcmalloc"
TRACES="random binary realloc compiler"
SIZES="16 64 256 4096 65536 1048576"

preload() {
	case $1 in
	jemalloc) echo $LIBDIR/libjemalloc.so.2 ;;
	mimalloc) echo $LIBDIR/libmimalloc.so.2 ;;
	tcmalloc) echo $LIBDIR/libtcmalloc_minimal.so.4 ;;
	esac
}

# Each package's witness: a command or a file it installs.
missing_packages() {
	for p in $PACKAGES; do
		case $p in
		valgrind | strace | sqlite3 | perl) command -v $p >/dev/null 2>&1 && continue ;;
		python3) [ -x /usr/bin/python3 ] && continue ;;     # Debian's, which bench-preload runs
		musl-tools) command -v musl-gcc >/dev/null 2>&1 && [ -e $MUSL_LIBC ] && continue ;;
		libjemalloc2) [ -e "$(preload jemalloc)" ] && continue ;;
		libmimalloc2.0) [ -e "$(preload mimalloc)" ] && continue ;;
		libtcmalloc-minimal4) [ -e "$(preload tcmalloc)" ] && continue ;;
		libc6-dev-i386) [ -e /usr/lib32/libc.a ] && continue ;;
		esac
		echo $p
	done
}

if [ "${1:-}" = deps ]; then
	missing=$(echo $(missing_packages))   # one line, single spaces
	[ -z "$missing" ] && exit 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "bench: installing $missing"
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
		exit
	fi
	echo "bench: missing $missing; install them with:"
	echo "  sudo apt-get install -y $missing"
	exit 1
fi

only_threads=
if [ "${1:-}" = threads ]; then
	only_threads=1
	shift
fi
dir=${1:?usage: bench/run.sh deps | BENCH_DIR | threads BENCH_DIR}
results=$dir/results${only_threads:+-threads}.txt
tmp=$dir/tmp
mkdir -p "$tmp"
: > "$results"

die() { echo "bench: $*" >&2; exit 1; }
record() { echo "$1 $2 $3" >> "$results"; }   # allocator column value

binary() {
	case $1 in
	barealloc) echo "$dir/bench-barealloc" ;;
	musl) echo "$dir/bench-musl" ;;
	*) echo "$dir/bench-hosted" ;;
	esac
}

# N per workload and size: enough pairs that the difference between N and
# 2N dwarfs start-up, few enough live blocks of 1 MiB to keep memory small.
# random does 10 rounds of N allocations (ROUNDS in bench.c).
n_for() {
	case $1.$2 in
	pair.*) echo 20000 ;;
	random.65536) echo 1000 ;;
	random.1048576) echo 200 ;;
	random.*) echo 2000 ;;
	esac
}

# run ALLOC COMMAND...: the command, with the allocator's LD_PRELOAD if it
# has one (valgrind and strace pass it on to the program they start), and
# without address randomisation: where the heap starts decides whether some
# allocators align it with one more call (tcmalloc's brk), which made the
# syscall counts vary by one between runs.
run() {
	pre=$(preload "$1"); shift
	env ${pre:+LD_PRELOAD=$pre} setarch -R "$@"
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6g\n", a / b }'; }
pairs_of() { sed -n 's/^pairs=//p' "$1"; }

# Metric 1: instructions per malloc+free pair.  Callgrind counts every
# instruction of the run (loader, start-up and exit included); the
# difference between N and 2N leaves those out: (Ir(2N) - Ir(N)) / N.  The
# benchmark's own instructions (every function of bench/bench.c and host.h: the loop,
# the shuffle, the touch of each block) are subtracted the same way, so
# what is left is malloc and free, with whatever they call (a PLT stub for
# a shared library, too).  irtotal keeps the count with the loop.
own_ir() { # callgrind file: the self cost of bench/bench.c's functions and host.h's
	callgrind_annotate --inclusive=no --auto=no --threshold=100 "$1" 2>/dev/null |
		awk '/^ *[0-9,]+ .*bench\/(bench\.c|host\.h):/ { gsub(",", "", $1); s += $1 } END { print s + 0 }'
}

instructions() { # alloc workload size
	for k in 1 2; do
		n=$(( $(n_for "$2" "$3") * k ))
		cg=$tmp/$1.$2.$3.$k.callgrind
		run "$1" valgrind -q --tool=callgrind --callgrind-out-file="$cg" "$(binary "$1")" "$2" "$3" "$n" \
			> "$tmp/out" 2> "$tmp/err" || die "$1 $2 $3 $n under callgrind: $(cat "$tmp/err")"
		eval ir$k=$(sed -n 's/^summary: *//p' "$cg") own$k=$(own_ir "$cg") p$k=$(pairs_of "$tmp/out")
	done
	[ "$own2" -gt "$own1" ] || die "$1 $2 $3: no cost in bench/bench.c (built without -g?)"
	# A preload that valgrind did not apply would time glibc under the
	# peer's name: the peer's library must have run, and glibc's malloc not.
	pre=$(preload "$1")
	if [ -n "$pre" ]; then
		callgrind_annotate --threshold=100 "$cg" > "$tmp/annotate" 2>&1
		if ! grep -q "\[$pre" "$tmp/annotate" || grep -q ':malloc \[.*/libc\.so' "$tmp/annotate"; then
			die "LD_PRELOAD=$pre did not reach the program under valgrind"
		fi
	fi
	record "$1" "ir.$2.$3" "$(div $((ir2 - ir1 - own2 + own1)) $((p2 - p1)))"
	record "$1" "irtotal.$2.$3" "$(div $((ir2 - ir1)) $((p2 - p1)))"
	rm -f "$tmp/$1.$2.$3".*.callgrind
}

# Metric 2: memory syscalls per 1000 pairs, from strace's log of the same
# runs natively: (S(2N) - S(N)) * 1000 / N.
syscalls() { # alloc workload size
	for k in 1 2; do
		n=$(( $(n_for "$2" "$3") * k ))
		run "$1" strace -f -qq -o "$tmp/strace" -e trace=mmap,munmap,mremap,madvise,brk,mprotect \
			"$(binary "$1")" "$2" "$3" "$n" > "$tmp/out" 2> "$tmp/err" || die "$1 $2 $3 $n under strace: $(cat "$tmp/err")"
		eval s$k=$(grep -cE '(mmap|munmap|mremap|madvise|brk|mprotect)\(' "$tmp/strace") \
			p$k=$(pairs_of "$tmp/out")
	done
	record "$1" "sys.$2.$3" "$(div $(( (s2 - s1) * 1000 )) $((p2 - p1)))"
}

# Metric 3: bytes the process gained per byte its live blocks asked for,
# resident (anon) and mapped.  bench.c measures both from /proc/self.
footprint() { # alloc workload size n
	run "$1" "$(binary "$1")" "$2" "$3" "$4" > "$tmp/out" 2> "$tmp/err" || die "$1 $2 $3 $4: $(cat "$tmp/err")"
	set -- "$1" "$2" $(sed 's/[a-z]*=//g' "$tmp/out")
	record "$1" "mem.$2.rss" "$(div "$4" "$3")"
	record "$1" "mem.$2.map" "$(div "$5" "$3")"
}

# Metric 4: memory.  bench/size.c's peak RSS (VmHWM, read by bench/peak at
# the exit) minus that of its write-only twin, median of 3 runs, and the
# syscalls of one run under strace: all of them and the memory ones.
# B is ALLOC-ISA.
MEMCALLS='mmap|mmap2|munmap|mremap|madvise|brk|mprotect'
hwm() { setarch -R "$dir/peak" "$@" | sed -n 's/^hwm_kib=\([0-9]*\) status=0$/\1/p'; }
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
peak_rss() { # B
	bin=$dir/rss-$1
	[ -x "$bin" ] || { echo "bench: $bin was not built" >&2; return; }
	set -- "$1" $(for k in 1 2 3; do echo $(( $(hwm "$bin") - $(hwm "$bin" baseline) )); done)
	[ $# = 4 ] || die "$bin: no VmHWM (or a failed check)"
	record "${1%-*}" "peak.${1##*-}" "$(median3 $2 $3 $4)"
	setarch -R strace -f -qq -o "$tmp/strace" "$bin" > /dev/null 2>&1 || die "$bin under strace failed"
	record "${1%-*}" "allsys.${1##*-}" "$(grep -c . "$tmp/strace")"
	record "${1%-*}" "memsys.${1##*-}" "$(grep -cE "^[0-9]+ +($MEMCALLS)\(" "$tmp/strace")"
}

# Metric 5: utilization, peak live payload over peak resident growth, of
# bench/replay on each trace.  A is an allocator of $ALLOCATORS (x86_64) or
# barealloc-i386 or glibc-i386.
utilization() { # A trace
	case $1 in
	barealloc) bin=$dir/replay-barealloc-x86_64 ;;
	musl) bin=$dir/replay-musl-x86_64 ;;
	*-i386) bin=$dir/replay-$1 ;;
	*) bin=$dir/replay-glibc-x86_64 ;;
	esac
	run "${1%-i386}" "$bin" "$dir/traces/$2.rep" > "$tmp/out" 2> "$tmp/err" || die "$1 replay $2: $(cat "$tmp/err")"
	set -- "$1" "$2" $(sed 's/[a-z]*=//g' "$tmp/out")
	record "$1" "util.$2" "$(div "$3" "$4")"
}

# Metric 6: bench drain 64 256MiB: the resident memory gained at the
# peak, after everything is freed, and after a second fill and free.
drain() { # alloc
	run "$1" "$(binary "$1")" drain 64 268435456 > "$tmp/out" 2> "$tmp/err" || die "$1 drain: $(cat "$tmp/err")"
	set -- "$1" $(sed 's/[a-z]*=//g' "$tmp/out")
	record "$1" drain.peak "$2"
	record "$1" drain.freed "$3"
	record "$1" drain.again "$4"
}

# Metric 7: throughput of bench/threads.c's workloads with 1 and 2 threads,
# natively: the median of THREAD_RUNS runs, the runs of every allocator taken
# in turns so that a slower spell of the machine falls on all of them.  A
# run that fails (a check of its blocks, a crash, or no end within the
# timeout) posts "fail" for its cell, is not run again, and makes run.sh end
# with status 1 after the tables.  musl is left out: its malloc takes one
# global lock.
THREAD_ALLOCATORS="barealloc glibc jemalloc mimalloc tcmalloc"
THREAD_WORKLOADS="larson prodcon local"
THREAD_RUNS=5
THREAD_TIMEOUT=30        # seconds; glibc's slowest run takes about one
threads_failed=0

thread_binary() {
	case $1 in
	barealloc) echo "$dir/threads-barealloc" ;;
	*) echo "$dir/threads-hosted" ;;
	esac
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

threads_measure() {
	echo "bench: threads" >&2
	failed=
	for k in $(seq $THREAD_RUNS); do
		for w in $THREAD_WORKLOADS; do
			for t in 1 2; do
				for a in $THREAD_ALLOCATORS; do
					bin=$(thread_binary "$a")
					[ -x "$bin" ] || continue
					case " $failed " in *" $a.$w.$t "*) continue ;; esac
					if run "$a" timeout -k 5 $THREAD_TIMEOUT "$bin" "$w" "$t" > "$tmp/out" 2> "$tmp/err"; then
						record "$a" "thrrun.$w.$t" "$(sed -n 's/.* ops_per_s=\([0-9]*\).*/\1/p' "$tmp/out")"
					else
						st=$?
						[ $st = 124 ] && st="$st, timed out"
						echo "bench: $a: threads $w $t failed (status $st): $(head -c 300 "$tmp/err")" >&2
						failed="$failed $a.$w.$t"
						threads_failed=1
					fi
				done
			done
		done
	done
	for a in $THREAD_ALLOCATORS; do
		if [ ! -x "$(thread_binary "$a")" ]; then
			echo "bench: $(thread_binary "$a") was not built: no $a row in Threads" >&2
			continue
		fi
		for w in $THREAD_WORKLOADS; do
			for t in 1 2; do
				case " $failed " in
				*" $a.$w.$t "*) record "$a" "thr.$w.$t" fail ;;
				*) record "$a" "thr.$w.$t" "$(median $(awk -v a="$a" -v c="thrrun.$w.$t" '$1 == a && $2 == c { print $3 }' "$results"))" ;;
				esac
			done
		done
	done
}

# The Threads table: each allocator's median over glibc's, and glibc's own
# median in millions of pairs per second.
threads_table() {
	cat <<EOF

Threads, bench/threads.c: throughput over glibc's (>1 = faster), median of
$THREAD_RUNS runs; the last row is glibc's, in million malloc+free pairs per second:
EOF
	awk -v allocators="$THREAD_ALLOCATORS" -v workloads="$THREAD_WORKLOADS" '$2 ~ /^thr\./ { v[$1, $2] = $3 }
	function cell(a, c,   g) {
		g = v["glibc", c]
		if (!((a, c) in v)) return "-"
		if (v[a, c] == "fail") return "fail"
		if (g == "" || g == "fail" || g == 0) return "-"
		return sprintf("%.2f", v[a, c] / g)
	}
	END {
		na = split(allocators, a); nw = split(workloads, w)
		line = sprintf("%-12s", "")
		for (j = 1; j <= nw; j++) line = line sprintf(" | %-13s", w[j])
		print line
		line = sprintf("%-12s", "allocator")
		for (j = 1; j <= nw; j++) line = line sprintf(" | %6s %6s", "1T", "2T")
		print line
		rule = line; gsub(/[^|]/, "-", rule); print rule
		for (i = 1; i <= na; i++) {
			line = sprintf("%-12s", a[i])
			for (j = 1; j <= nw; j++)
				for (t = 1; t <= 2; t++)
					line = line (t == 1 ? " | " : " ") sprintf("%6s", cell(a[i], "thr." w[j] "." t))
			print line
		}
		line = sprintf("%-12s", "glibc Mops/s")
		for (j = 1; j <= nw; j++)
			for (t = 1; t <= 2; t++) {
				g = v["glibc", "thr." w[j] "." t]
				line = line (t == 1 ? " | " : " ") sprintf("%6s", g == "" || g == "fail" ? "-" : sprintf("%.1f", g / 1e6))
			}
		print line
	}' "$results"
	cat <<EOF
larson: each thread replaces every block (16..1024 B) of a 4096-slot array
once per round, in a random order; then the arrays move on to the next
thread, so that with 2 threads every free is of a block the other made.
prodcon: with 2 threads one mallocs blocks (16..512 B) into a lock-free ring
and the other checks and frees them; with 1, one fills the ring and drains
it in turns.  local: each thread replaces random blocks (16..256 B) of its
own 1000.  Every block is written when made and checked when freed; fail =
a run failed.  Details: docs/BENCH.md.
EOF
}

if [ -n "$only_threads" ]; then
	threads_measure
	threads_table | tee "$dir/threads.txt"
	exit $threads_failed
fi

for a in $ALLOCATORS; do
	if [ ! -x "$(binary "$a")" ]; then
		echo "bench: $(binary "$a") was not built: no $a row" >&2
		continue
	fi
	echo "bench: $a" >&2
	for w in pair random; do
		for s in $SIZES; do
			instructions "$a" "$w" "$s"
			syscalls "$a" "$w" "$s"
		done
	done
	footprint "$a" live 16 1000000
	footprint "$a" mixed 0 100000
	drain "$a"
	for t in $TRACES; do
		utilization "$a" "$t"
	done
done
for b in barealloc-x86_64 barealloc-i386 glibc-x86_64 glibc-i386 musl-x86_64; do
	peak_rss "$b"
done
for t in $TRACES; do     # barealloc and glibc for i386, beside the x86_64 rows
	utilization barealloc-i386 "$t"
	utilization glibc-i386 "$t"
done

# Text size: barealloc's alloc/ objects, as bench.mk lists them in
# text/objects; musl's src/malloc/ (mallocng and its wrappers), which
# Debian's libc.a holds as the members from calloc.lo to replaced.lo.
for v in x86_64-Os x86_64-O2 i386-Os i386-O2; do
	objs=$(grep "/text/$v/" "$dir/text/objects") || continue
	size $objs > "$dir/text-$v.txt"
	record barealloc "text.$v" "$(awk 'NR > 1 { t += $1 } END { print t }' "$dir/text-$v.txt")"
done
if [ -e $MUSL_LIBC ]; then
	record musl text.x86_64-O2 "$(size $MUSL_LIBC 2>/dev/null | awk '$6 == "calloc.lo" { on = 1 }
		on { t += $1 } $6 == "replaced.lo" { print t; exit }')"
fi
record musl text.x86_64-Os "7578 stated"   # 7.4 KiB: the project's figure, not measured here

# The size yardstick: bench/size.c stripped, per allocator and ISA (bench.mk
# builds it).  It checks every byte it wrote: a build that does not exit
# with 0 posts no size.
for f in "$dir"/size-*; do
	[ -x "$f" ] || continue
	name=${f##*/size-}
	"$f" || die "$f exited with status $?"
	record "${name%-*}" "size.${name##*-}" "$(stat -c %s "$f")"
done

threads_measure

# The table: one row per allocator, one column per metric and size.  Lower
# is better everywhere; * marks the best peer of each column, and the last
# row is barealloc's value divided by that best peer's.
{
awk -v allocators="$ALLOCATORS" '
function cell(x, c) {
	return gof[c] == 6 ? sprintf("%.1f", x) : x >= 100 ? sprintf("%.0f", x) : x >= 10 ? sprintf("%.1f", x) : sprintf("%.2f", x)
}
function sep(c) { return gof[c] != gof[c - 1] ? " |" : "" }   # before the first column of a group
BEGIN {
	split("Ir per pair, net: pair loop|Ir per pair, net: random order|mem syscalls per 1000 pairs: pair|" \
		"mem syscalls per 1000 pairs: random|bytes per live byte|text KiB", group, "|")
	split("ir.pair ir.random sys.pair sys.random", prefix)
	nsize = split("16 64 256 4096 65536 1048576", size)
	split("16 64 256 4K 64K 1M", slabel)
	for (g = 1; g <= 4; g++)
		for (i = 1; i <= nsize; i++) {
			col[++nc] = prefix[g] "." size[i]; label[nc] = slabel[i]; gof[nc] = g
		}
	split("mem.live.rss mem.live.map mem.mixed.rss mem.mixed.map", m)
	split("16rss 16map mixrss mixmap", ml)
	for (i = 1; i <= 4; i++) { col[++nc] = m[i]; label[nc] = ml[i]; gof[nc] = 5 }
	split("text.x86_64-Os text.x86_64-O2 text.i386-Os text.i386-O2", t)
	split("x64Os x64O2 i386Os i386O2", tl)
	for (i = 1; i <= 4; i++) { col[++nc] = t[i]; label[nc] = tl[i]; gof[nc] = 6 }
	na = split(allocators, alloc)
}
{
	v[$1, $2] = $2 ~ /^text/ ? $3 / 1024 : $3 + 0
	if ($4 == "stated") stated[$1, $2] = 1
}
END {
	line = sprintf("%-10s", "")
	for (c = 1; c <= nc; c++) {
		if (!sep(c)) continue
		w = 0; for (d = c; gof[d] == gof[c]; d++) w += 7
		line = line sprintf(" | %-" (w - 1) "s", substr(group[gof[c]], 1, w - 1))
	}
	print line
	line = sprintf("%-10s", "allocator")
	for (c = 1; c <= nc; c++) line = line sep(c) sprintf("%7s", label[c])
	print line
	gsub(/[^|]/, "-", line); print line
	for (c = 1; c <= nc; c++)
		for (a = 1; a <= na; a++)
			if (alloc[a] != "barealloc" && (alloc[a], col[c]) in v && \
			    (!(c in best) || v[alloc[a], col[c]] < best[c]))
				best[c] = v[alloc[a], col[c]]
	for (a = 1; a <= na; a++) {
		line = sprintf("%-10s", alloc[a])
		for (c = 1; c <= nc; c++) {
			k = (alloc[a], col[c]) in v
			s = k ? cell(v[alloc[a], col[c]], c) : "-"
			if ((alloc[a], col[c]) in stated) s = "(" s ")"
			if (k && alloc[a] != "barealloc" && v[alloc[a], col[c]] == best[c]) s = s "*"
			line = line sep(c) sprintf("%7s", s)
		}
		print line
	}
	line = sprintf("%-10s", "ratio")
	for (c = 1; c <= nc; c++) {
		s = "-"
		if (("barealloc", col[c]) in v && c in best) {
			x = v["barealloc", col[c]]
			s = best[c] == 0 ? (x == 0 ? "=" : "inf") : sprintf("%.2f", x / best[c])
		}
		line = line sep(c) sprintf("%7s", s)
	}
	print line
}' "$results"
cat <<EOF
Lower is better everywhere.  * = the best peer (not barealloc) of each column;
ratio = barealloc / that best peer (= when both are 0).  Ir: instructions
counted by callgrind in malloc and free, net of the benchmark's own loop
(results.txt has the totals as irtotal).  16rss/16map: 1,000,000 live 16 B blocks, resident and
mapped anonymous bytes per live byte; mixrss/mixmap: the same for 100,000 live
blocks of 16 B..64 KiB after 400,000 replacements.  text: barealloc's alloc/
objects; musl: x64O2 = src/malloc of Debian's libc.a as shipped, (x64Os) = the
project's figure for mallocng at -Os, not measured.  Details: docs/BENCH.md.

The size yardstick, bench/size.c (1000 blocks of 1..4096 B, a third grown by
realloc, all freed, one 1 MiB block), stripped, in bytes: -Os; barealloc built
with barealloc-gcc against libraries built with OPT='-Os -flto'; musl and glibc
static.
EOF
awk '$2 ~ /^size\./ { v[$1, $2] = $3; seen[$1] = 1 }
END {
	printf "%-10s %10s %10s\n", "", "x86_64", "i386"
	n = split("barealloc musl glibc", a)
	for (i = 1; i <= n; i++) if (a[i] in seen)
		printf "%-10s %10s %10s\n", a[i], ((a[i], "size.x86_64") in v) ? v[a[i], "size.x86_64"] : "-",
			((a[i], "size.i386") in v) ? v[a[i], "size.i386"] : "-"
}' "$results"
cat <<EOF

Memory.  bench/size.c at its peak: VmHWM minus that of its write-only twin,
KiB (median of 3), and the syscalls of one run (all; memory ones):
EOF
awk '{ v[$1, $2] = $3; seen[$1] = 1 }
END {
	printf "%-10s %8s %8s | %6s %6s | %6s %6s\n", "", "x86_64", "i386", "all64", "all32", "mem64", "mem32"
	n = split("barealloc glibc musl", a)
	split("peak.x86_64 peak.i386 allsys.x86_64 allsys.i386 memsys.x86_64 memsys.i386", k)
	for (i = 1; i <= n; i++) {
		if (!((a[i], "peak.x86_64") in v)) continue
		line = sprintf("%-10s", a[i])
		for (j = 1; j <= 6; j++)
			line = line sprintf(j == 3 || j == 5 ? " | %6s" : j > 2 ? " %6s" : " %8s", ((a[i], k[j]) in v) ? v[a[i], k[j]] : "-")
		print line
	}
}' "$results"
cat <<EOF

Utilization on the traces of bench/tracegen (peak live payload / peak
resident growth, bench/replay; higher is better):
EOF
awk -v traces="$TRACES" '{ v[$1, $2] = $3 }
END {
	nt = split(traces, t)
	line = sprintf("%-15s", "")
	for (j = 1; j <= nt; j++) line = line sprintf(" %9s", t[j])
	print line sprintf(" %9s", "geomean")
	n = split("barealloc barealloc-i386 glibc glibc-i386 musl jemalloc mimalloc tcmalloc", a)
	for (i = 1; i <= n; i++) {
		line = sprintf("%-15s", a[i]); lg = 0; m = 0
		for (j = 1; j <= nt; j++) {
			if ((a[i], "util." t[j]) in v) { x = v[a[i], "util." t[j]]; lg += log(x); m++; line = line sprintf(" %8.1f%%", 100 * x) }
			else line = line sprintf(" %9s", "-")
		}
		if (m) print line sprintf(" %8.1f%%", 100 * exp(lg / m))
	}
}' "$results"
cat <<EOF

bench drain 64 256MiB: resident MiB gained at the peak, after all is freed,
and after a second fill and free (what a cycling program keeps):
EOF
awk '{ v[$1, $2] = $3 }
END {
	printf "%-10s %8s %8s %8s\n", "", "peak", "freed", "again"
	n = split("barealloc glibc musl jemalloc mimalloc tcmalloc", a)
	for (i = 1; i <= n; i++) if ((a[i], "drain.peak") in v)
		printf "%-10s %8.1f %8.1f %8.1f\n", a[i], v[a[i], "drain.peak"] / 1048576,
			v[a[i], "drain.freed"] / 1048576, v[a[i], "drain.again"] / 1048576
}' "$results"
threads_table
} | tee "$dir/table.txt"
exit $threads_failed
