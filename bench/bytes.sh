#!/bin/sh
# callgrind instructions per call and per byte of the assembly byte loops
# (memcpy, memset) and their plain C twins, for both ISAs and sizes 16 B
# to 64 KiB: the difference of N and 2N calls, less the same for the
# calling loop alone, divided by N.
#   usage: bench/bytes.sh BUILD_DIR
build=${1:?usage: bench/bytes.sh BUILD_DIR}
n=2000

ir() { # program args...: callgrind's instruction total
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
		sed -n 's/.*refs: *//p' | tr -d ,
}

printf '%-7s %-9s' isa function
for s in 16 64 256 1024 4096 16384 65536; do printf ' %13s' "$s B"; done
printf '\n'
for isa in x86_64 i386; do
	for f in memcpy c_memcpy memset c_memset; do
		printf '%-7s %-9s' "$isa" "$f"
		for s in 16 64 256 1024 4096 16384 65536; do
			a=$(ir "$build/bytes-$isa" "$f" "$s" "$n")
			b=$(ir "$build/bytes-$isa" "$f" "$s" $((2 * n)))
			a0=$(ir "$build/bytes-$isa" none "$s" "$n")
			b0=$(ir "$build/bytes-$isa" none "$s" $((2 * n)))
			awk -v a="$a" -v b="$b" -v a0="$a0" -v b0="$b0" -v n="$n" -v s="$s" 'BEGIN {
				c = ((b - a) - (b0 - a0)) / n; printf " %6.0f/%5.2f", c, c / s }'
		done
		printf '\n'
	done
done
echo "Each cell: instructions per call / per byte (callgrind), net of the calling loop."
echo "Source and destination move through alignments 0..15 from call to call."
