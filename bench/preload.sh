#!/bin/sh
# make bench-preload: real programs under LD_PRELOAD of each allocator.
# Every workload runs RUNS times per allocator: glibc's malloc (no
# preload), barealloc's preload library (build/x86_64/libbarealloc.so),
# jemalloc, mimalloc and tcmalloc (their Debian libraries, as bench/run.sh
# preloads them).  Each round runs every workload once per allocator, the
# allocators in turns (their order rotates from round to round), so that a
# slower spell of the machine falls on all of them.  bench/wall launches
# each run and reads its wall time, CPU time and peak RSS; the output of
# every run is checked against glibc's.  Prints four markdown tables: the
# median wall time, the median of the per-round ratios to glibc of the wall
# time and of the CPU time, and the median peak RSS.
#   sh bench/preload.sh BENCH_DIR LIBRARY     LIBRARY: barealloc's preload library
# (make bench-deps, bench/run.sh's, installs the programs it runs.)
# BENCH_DIR holds wall, threads-hosted (bench/threads.c against glibc with
# pthreads) and preload/text.txt and preload/code.c, the generated inputs
# (bench.mk makes them all).  The raw numbers go to
# BENCH_DIR/results-preload.txt (one line per run: allocator workload round
# ns cpu_ns maxrss_kib status checksum), the tables to BENCH_DIR/preload.txt.
# PRELOAD_RUNS (default 5) sets the number of rounds, PRELOAD_ONLY a
# space-separated list of workloads to run alone.
set -u

LIBDIR=/usr/lib/x86_64-linux-gnu
ALLOCATORS="glibc barealloc jemalloc mimalloc tcmalloc"
WORKLOADS="python3 python3-malloc perl sort gcc sqlite3 awk larson-1T larson-2T prodcon-1T prodcon-2T local-1T local-2T"
RUNS=${PRELOAD_RUNS:-5}
TIMEOUT=60               # seconds per run; the longest takes about 1.5

dir=$(cd "${1:?usage: bench/preload.sh BENCH_DIR LIBRARY}" && pwd)
so=$(cd "$(dirname "${2:?usage: bench/preload.sh BENCH_DIR LIBRARY}")" && pwd)/$(basename "$2")
src=$(cd "$(dirname "$0")/preload" && pwd)
data=$dir/preload
tmp=$data/tmp
results=$dir/results-preload.txt
if [ -n "${PRELOAD_ONLY:-}" ]; then
	for w in $PRELOAD_ONLY; do
		case " $WORKLOADS " in *" $w "*) ;; *) echo "bench-preload: no workload $w (of $WORKLOADS)" >&2; exit 1 ;; esac
	done
	WORKLOADS=$PRELOAD_ONLY
fi
case "$dir$so$src" in *" "*) echo "bench-preload: paths with spaces are not supported" >&2; exit 1 ;; esac
for f in "$dir/wall" "$dir/threads-hosted" "$data/text.txt" "$data/code.c" "$so"; do
	[ -e "$f" ] || { echo "bench-preload: $f is missing (make bench-preload makes it)" >&2; exit 1; }
done

preload() {
	case $1 in
	barealloc) echo "$so" ;;
	jemalloc) echo $LIBDIR/libjemalloc.so.2 ;;
	mimalloc) echo $LIBDIR/libmimalloc.so.2 ;;
	tcmalloc) echo $LIBDIR/libtcmalloc_minimal.so.4 ;;
	esac
}
mkdir -p "$tmp"
: > "$results"
: > "$tmp/failures"

# Each library must be there and reach the program: a preload that the
# loader refused (it says so on stderr and goes on) would time glibc under
# another name.
for a in $ALLOCATORS; do
	pre=$(preload $a)
	[ -n "$pre" ] || continue
	[ -e "$pre" ] || { echo "bench-preload: $pre is missing (make bench-deps)" >&2; exit 1; }
	"$dir/wall" -p "$pre" "$tmp/wall" cat /proc/self/maps > "$tmp/out" 2> "$tmp/err" &&
		grep -q " $(readlink -f "$pre")\$" "$tmp/out" ||
		{ echo "bench-preload: LD_PRELOAD=$pre does not reach the program: $(head -c 300 "$tmp/err")" >&2; exit 1; }
done

# The same environment for every allocator: the C locale (sort compares
# bytes), and python's and perl's hash seeds fixed, so that every run of a
# workload makes the same requests.
export LC_ALL=C PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0
unset LD_PRELOAD PYTHONMALLOC MALLOC_CONF MIMALLOC_OPTIONS

# A workload's command (no argument holds a space) and its standard input.
# The sizes give each about 0.4 to 1.3 s with glibc on a 2-core machine.
command_of() {
	case $1 in
	python3) echo /usr/bin/python3 "$src/work.py" 50000 ;;
	python3-malloc) echo env PYTHONMALLOC=malloc /usr/bin/python3 "$src/work.py" 35000 ;;
	perl) echo perl "$src/work.pl" "$data/text.txt" 100000 ;;
	sort) echo sort "$data/text.txt" ;;
	gcc) echo gcc -O2 -c "$data/code.c" -o "$tmp/obj.o" ;;
	sqlite3) echo sqlite3 :memory: ;;
	awk) echo awk -v lim=150000 -f "$src/work.awk" "$data/text.txt" ;;
	larson-1T) echo "$dir/threads-hosted" larson 1 12000000 ;;
	larson-2T) echo "$dir/threads-hosted" larson 2 12000000 ;;
	prodcon-1T) echo "$dir/threads-hosted" prodcon 1 12000000 ;;
	prodcon-2T) echo "$dir/threads-hosted" prodcon 2 2000000 ;;
	local-1T) echo "$dir/threads-hosted" local 1 24000000 ;;
	local-2T) echo "$dir/threads-hosted" local 2 40000000 ;;
	esac
}
stdin_of() {
	case $1 in
	sqlite3) echo "$src/work.sql" ;;
	*) echo /dev/null ;;
	esac
}

# What a run produced: its standard output (bench/threads.c's line without
# its times) and gcc's object file.
checksum() { # workload
	case $1 in
	larson-* | prodcon-* | local-*) sed 's/ ns=[0-9]* ops_per_s=[0-9]*//' "$tmp/out" | cksum ;;
	gcc) cat "$tmp/out" "$tmp/obj.o" | cksum ;;
	*) cksum < "$tmp/out" ;;
	esac | awk '{ print $1 "." $2 }'
}

failed=          # allocator.workload of every failed cell, not run again
failures=0
fail() { # allocator workload round what
	failures=$((failures + 1))
	failed="$failed $1.$2"
	pre=$(preload "$1")
	cp "$tmp/out" "$tmp/fail-$1-$2.out" 2>/dev/null
	cp "$tmp/err" "$tmp/fail-$1-$2.err" 2>/dev/null
	{
		echo "bench-preload: FAIL: $1, $2, round $3: $4"
		sed -n '1,5s/^/    stderr: /p' "$tmp/err"
		echo "    command: (cd $PWD && env LC_ALL=C PYTHONHASHSEED=0 PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0${pre:+ LD_PRELOAD=$pre} $(command_of "$2") < $(stdin_of "$2"))"
		echo "    output kept in $tmp/fail-$1-$2.out and .err"
	} | tee -a "$tmp/failures" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
echo "bench-preload: $RUNS rounds of $(echo $WORKLOADS | wc -w) workloads, $(echo $ALLOCATORS | wc -w) allocators; load $load_before" >&2
nalloc=$(echo $ALLOCATORS | wc -w)
for r in $(seq "$RUNS"); do
	# This round's order: the allocators rotated by r - 1 (glibc first
	# in the first round, whose outputs are the reference).
	k=$(( (r - 1) % nalloc + 1 ))
	order=$(echo $ALLOCATORS $ALLOCATORS | tr ' ' '\n' | sed -n "$k,$((k + nalloc - 1))p" | tr '\n' ' ')
	for w in $WORKLOADS; do
		for a in $order; do
			case " $failed " in *" $a.$w "*) continue ;; esac
			rm -f "$tmp/obj.o"
			pre=$(preload "$a")
			"$dir/wall" -R -t $TIMEOUT ${pre:+-p "$pre"} "$tmp/wall" $(command_of "$w") \
				< "$(stdin_of "$w")" > "$tmp/out" 2> "$tmp/err" || { echo "bench-preload: bench/wall failed" >&2; exit 1; }
			set -- $(sed 's/[a-z_]*=//g' "$tmp/wall")     # ns cpu_ns kib status
			ck=$(checksum "$w")
			ref=$(awk -v w="$w" '$1 == "glibc" && $2 == w && $7 == 0 { print $8; exit }' "$results")
			if [ "$4" != 0 ]; then
				st=$4; [ "$st" = 137 ] && st="137, killed after ${TIMEOUT}s or by SIGKILL"
				fail "$a" "$w" "$r" "exit status $st"
			elif [ -n "$ref" ] && [ "$ck" != "$ref" ]; then
				fail "$a" "$w" "$r" "output differs from glibc's (cksum.size $ck, glibc's $ref)"
				set -- "$1" "$2" "$3" mismatch
			fi
			echo "$a $w $r $1 $2 $3 $4 $ck" >> "$results"
		done
	done
	echo "bench-preload: round $r done, $(( $(date +%s) - start )) s" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The tables: one row per workload, one column per allocator.  A cell whose
# runs failed shows FAIL (a crash, an exit status other than 0 or a
# timeout) or MISMATCH (an output other than glibc's), in bold.
{
cat <<EOF
make bench-preload, $(date -u '+%Y-%m-%d %H:%M UTC'), barealloc $(git -C "$src" describe --always --dirty 2>/dev/null || echo "?"); $RUNS rounds, $(( $(date +%s) - start )) s;
load average (1, 5, 15 min) $load_before before, $load_after after, on $(nproc) cores.

EOF
awk -v allocators="$ALLOCATORS" -v workloads="$WORKLOADS" '
function median(list,   n, v, i, j, t) {
	n = split(list, v, " ")
	for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
	return n == 0 ? "" : n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function bad(a, w) { return (a, w) in mismatch ? "**MISMATCH**" : (a, w) in failure ? "**FAIL**" : "" }
function header(first, skip,   i, line, rule) {
	line = "| " first; rule = "|---"
	for (i = 1; i <= na; i++) if (al[i] != skip) { line = line " | " al[i]; rule = rule "|---:" }
	print line " |"; print rule "|"
}
# R[a, w]: the median over the rounds of X of glibc / X of the allocator.
function ratios(X, R,   i, j, r, list) {
	for (j = 1; j <= nw; j++) for (i = 1; i <= na; i++) {
		list = ""
		for (r = 1; r <= maxr; r++)
			if ((al[i], wl[j], r) in X && ("glibc", wl[j], r) in X && X[al[i], wl[j], r] > 0)
				list = list " " X["glibc", wl[j], r] / X[al[i], wl[j], r]
		R[al[i], wl[j]] = median(list)
	}
}
function ratio_table(title, R,   i, j, s, x, line, lg, ng, c) {
	print ""
	print title
	print ""
	header("workload", "glibc")
	for (j = 1; j <= nw; j++) {
		line = "| " wl[j]
		for (i = 1; i <= na; i++) {
			if (al[i] == "glibc") continue
			s = bad(al[i], wl[j])
			if (s == "") {
				x = R[al[i], wl[j]]
				if (x == "") s = "-"
				else { s = sprintf("%.2f", x); lg[i] += log(x); ng[i]++ }
			}
			line = line " | " s
		}
		print line " |"
	}
	line = "| geometric mean"
	for (i = 1; i <= na; i++)
		if (al[i] != "glibc")
			line = line " | " (ng[i] == nw ? sprintf("%.2f", exp(lg[i] / ng[i])) : ng[i] ? sprintf("(%.2f)", exp(lg[i] / ng[i])) : "-")
	print line " |"
	line = "| faster than glibc on"
	for (i = 1; i <= na; i++) {
		if (al[i] == "glibc") continue
		c = 0
		for (j = 1; j <= nw; j++) if (R[al[i], wl[j]] != "" && sprintf("%.2f", R[al[i], wl[j]]) + 0 > 1 && bad(al[i], wl[j]) == "") c++
		line = line " | " c "/" nw
	}
	print line " |"
}
{
	a = $1; w = $2; r = $3
	if (r > maxr) maxr = r
	if ($7 == "mismatch") { mismatch[a, w] = 1; next }
	if ($7 != 0) { failure[a, w] = 1; next }
	ns[a, w, r] = $4; cpu[a, w, r] = $5; t[a, w] = t[a, w] " " $4 / 1e9; kib[a, w] = kib[a, w] " " $6
}
END {
	na = split(allocators, al, " "); nw = split(workloads, wl, " ")
	ratios(ns, wall); ratios(cpu, cputime)

	print "Wall time, seconds, median of the runs:"
	print ""
	header("workload", "")
	for (j = 1; j <= nw; j++) {
		line = "| " wl[j]
		for (i = 1; i <= na; i++) {
			s = bad(al[i], wl[j])
			if (s == "") s = (al[i], wl[j]) in t ? sprintf("%.3f", median(t[al[i], wl[j]])) : "-"
			line = line " | " s
		}
		print line " |"
	}
	ratio_table("Speed over glibc, wall time: glibc time / allocator time in each round, median of the rounds (>1 = faster than glibc):", wall)
	ratio_table("Speed over glibc, CPU time (user + system, all threads and child processes): glibc / allocator per round, median:", cputime)

	print ""
	print "Peak RSS (ru_maxrss: VmHWM at the exit; gcc: its largest process, cc1), MiB, median of the runs:"
	print ""
	line = "| workload"; rule = "|---"
	for (i = 1; i <= na; i++) { line = line " | " al[i]; rule = rule "|---:" }
	print line " | barealloc / glibc |"; print rule "|---:|"
	for (j = 1; j <= nw; j++) {
		line = "| " wl[j]
		for (i = 1; i <= na; i++) {
			s = bad(al[i], wl[j])
			if (s == "") s = (al[i], wl[j]) in kib ? sprintf("%.1f", median(kib[al[i], wl[j]]) / 1024) : "-"
			line = line " | " s
		}
		b = kib["barealloc", wl[j]]; g = kib["glibc", wl[j]]
		line = line " | " (b != "" && g != "" && bad("barealloc", wl[j]) == "" ? sprintf("%.2f", median(b) / median(g)) : "-")
		print line " |"
	}
}' "$results"
cat <<EOF

glibc runs each program as it is; the others preload their library (LD_PRELOAD,
set by bench/wall in the program's environment only, so it reaches the program
and whatever it starts: gcc's cc1 and as), with address randomisation off.
Workloads: python3 bench/preload/work.py (records of dicts, lists and strings,
sorted, grouped, through JSON and back) with python's own small-object
allocator, and again with PYTHONMALLOC=malloc (every object from malloc); perl
bench/preload/work.pl (hashes of words and pairs over 100,000 lines); sort (C
locale) of 1,000,000 lines (27 MB); gcc -O2 -c of a generated C file of 60
functions; sqlite3 :memory: < bench/preload/work.sql (200,000 rows, indexes,
joins, updates); awk (Debian's mawk) bench/preload/work.awk (arrays and strings
over 150,000 lines); bench/threads.c built against glibc with pthreads (the
build of make bench-threads) with 1 and 2 threads.  Every run is checked: exit
status 0 and output (stdout; gcc's object file; bench/threads.c's line without
its times) identical to glibc's first.  musl's peak RSS cannot be measured
here: these are glibc's dynamic programs, and musl's malloc cannot be preloaded
into them.  Details: docs/BENCH.md.
EOF
if [ $failures -gt 0 ]; then
	echo
	echo "**$failures failed run(s)**, each cell not run again after its first failure:"
	echo
	echo '```'
	cat "$tmp/failures"
	echo '```'
fi
} | tee "$dir/preload.txt"
[ $failures = 0 ]
