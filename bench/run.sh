#!/bin/sh
# The allocation benchmark behind `make bench` (bench/bench.mk builds the
# binaries first).  Runs the workloads of bench/bench.c for every allocator
# and prints one table; the raw numbers go to BENCH_DIR/results.txt.
#   sh bench/run.sh deps        install the missing tools and peers (as root), or name them
#   sh bench/run.sh BENCH_DIR   measure everything
# BENCH_DIR holds bench-barealloc (freestanding, static), bench-hosted
# (glibc; the preloaded peers), bench-musl (musl-gcc -static) and text/, the
# allocator's objects per ISA and optimisation level, listed in text/objects.
set -u

LIBDIR=/usr/lib/x86_64-linux-gnu
MUSL_LIBC=/usr/lib/x86_64-linux-musl/libc.a
PACKAGES="valgrind strace musl-tools libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 libc6-dev-i386"
ALLOCATORS="barealloc glibc musl jemalloc mimalloc tcmalloc"
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
		valgrind | strace) command -v $p >/dev/null 2>&1 && continue ;;
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

dir=${1:?usage: bench/run.sh deps | BENCH_DIR}
results=$dir/results.txt
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
# benchmark's own instructions (every function of bench/bench.c: the loop,
# the shuffle, the touch of each block) are subtracted the same way, so
# what is left is malloc and free, with whatever they call (a PLT stub for
# a shared library, too).  irtotal keeps the count with the loop.
own_ir() { # callgrind file: the self cost of bench/bench.c's functions
	callgrind_annotate --inclusive=no --auto=no --threshold=100 "$1" 2>/dev/null |
		awk '/^ *[0-9,]+ .*bench\/bench\.c:/ { gsub(",", "", $1); s += $1 } END { print s + 0 }'
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
} | tee "$dir/table.txt"
