#!/bin/sh
# Real programs under build/x86_64/libbarealloc.so, natively: each runs
# twice, without and with the preload, in the same fixed environment, and
# the two runs must agree byte for byte (stdout, or the file written) and
# in exit status; the preloaded run must print nothing of barealloc's.
# Also: the dynamic linker binds malloc & co. of the program and of libc
# to the library.  Prints [OK], [FAIL] and [SKIP] lines for tests/run.sh.
#   usage: tests/preload/programs.sh BUILD_DIR

build=${1:?usage: programs.sh BUILD_DIR}
so=$(cd "$build/x86_64" && pwd)/libbarealloc.so
repo=$(pwd)
tmp=$(cd "$build/x86_64" && pwd)/preload-programs
rm -rf "$tmp"
mkdir -p "$tmp/home"

# The same environment for both runs: no locale, time zone or user
# configuration to differ.
fixed() { # [VAR=value...] command...: runs it in the fixed environment
	env -i PATH=/usr/bin:/bin HOME="$tmp/home" TZ=UTC LC_ALL=C LANG=C PYTHONHASHSEED=0 \
		PERL_HASH_SEED=0 GIT_CONFIG_NOSYSTEM=1 GIT_PAGER=cat PAGER=cat "$@"
}

have() { # tool debian-package
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "[SKIP] $1: not installed (sudo apt-get install -y $2)"
	return 1
}

# name [--file F] command...: stdout (or F, when the command writes it)
# and exit status of both runs compared.
compare() {
	name=$1; shift
	file=
	[ "$1" = --file ] && { file=$2; shift 2; }
	for how in plain preload; do
		pre=
		[ "$how" = preload ] && pre=LD_PRELOAD=$so
		start=$(date +%s.%N)
		fixed $pre "$@" > "$tmp/$name.$how" 2> "$tmp/$name.$how.err"
		echo $? > "$tmp/$name.$how.status"
		[ -n "$file" ] && mv "$file" "$tmp/$name.$how"
		echo "$start $(date +%s.%N)" | awk '{ printf "%.2f s\n", $2 - $1 }' > "$tmp/$name.$how.time"
	done
	s1=$(cat "$tmp/$name.plain.status") s2=$(cat "$tmp/$name.preload.status")
	size=$(wc -c < "$tmp/$name.plain")
	why=
	cmp -s "$tmp/$name.plain" "$tmp/$name.preload" || why="$why output differs ($(cmp "$tmp/$name.plain" "$tmp/$name.preload" 2>&1 | head -1));"
	[ "$s1" = "$s2" ] || why="$why exit status $s1 without, $s2 with the preload;"
	[ "$s1" = 0 ] || why="$why exit status $s1 ($(head -c 200 "$tmp/$name.plain.err"));"
	[ "$size" -gt 0 ] || why="$why no output;"
	grep -q '^barealloc:' "$tmp/$name.preload.err" && why="$why barealloc: $(grep -m1 '^barealloc:' "$tmp/$name.preload.err");"
	grep -q 'ld\.so' "$tmp/$name.preload.err" && why="$why the loader: $(grep -m1 'ld\.so' "$tmp/$name.preload.err");"
	if [ -z "$why" ]; then
		echo "[OK]   $name: the same $size bytes and status with the preload ($(cat "$tmp/$name.preload.time"))"
	else
		echo "[FAIL] $name:$why files in $tmp"
	fi
}

# The dynamic linker's own account: the program's references to the family
# resolve to the library, and so do libc's own to malloc and free (those
# it makes through its PLT).
bindings() {
	fixed LD_DEBUG=bindings LD_PRELOAD="$so" /bin/ls / > /dev/null 2> "$tmp/bindings"
	libc=$(fixed ldd /bin/ls | sed -n 's/.*libc\.so\.6 => \([^ ]*\).*/\1/p')
	for sym in malloc free calloc realloc; do
		for who in /bin/ls "${libc:-libc.so.6}"; do
			[ "$who" != /bin/ls ] && [ "$sym" != malloc ] && [ "$sym" != free ] && continue
			if grep -q "binding file $who \[0\] to $so \[0\]: normal symbol \`$sym'" "$tmp/bindings"; then
				echo "[OK]   bindings: $who's $sym binds to libbarealloc.so"
			else
				echo "[FAIL] bindings: LD_DEBUG=bindings shows no binding of $who's $sym to $so: $(grep "symbol \`$sym'" "$tmp/bindings" | head -2 | tr '\n' ' ')"
			fi
		done
	done
}

bindings

# ls -laR of a copy of tests/ (times kept, shown in full), in a directory
# of its own, which nothing writes while ls runs.
mkdir "$tmp/ls"
cp -a tests "$tmp/ls/tree"
compare ls ls -laR --time-style=full-iso "$tmp/ls/tree"

# sort: 200 000 generated lines, by a numeric key then the whole line, in
# parallel threads.
awk 'BEGIN { srand(1); for (i = 0; i < 200000; i++)
	printf "%s %d %x\n", substr("qwertyuiopasdfghjklzxcvbnm", i % 26 + 1, i % 7 + 1), int(rand() * 100000), i * 2654435761 % 4294967296 }' \
	> "$tmp/sort.in"
compare sort sort --parallel=2 -S 16M -k2,2n -k1,1 "$tmp/sort.in"

# awk: associative arrays and string building over the same lines.
compare awk awk '{ n[$1]++; s[$2 % 997] = s[$2 % 997] $3 } END { for (k in n) print k, n[k]; for (k in s) print k, length(s[k]) }' "$tmp/sort.in"

if have /usr/bin/python3 python3; then
	cat > "$tmp/alloc.py" <<'PY'
import json, hashlib
d = {}
for i in range(200000):
    d["k%d" % i] = [i, str(i) * (i % 7), {"x": i % 13}]
for i in range(0, 200000, 3):
    del d["k%d" % i]
s = json.dumps(d, sort_keys=True)
back = json.loads(s)
assert back == d
words = " ".join("w%d" % (i * 7919 % 10007) for i in range(100000)).split()
freq = {}
for w in words:
    freq[w] = freq.get(w, 0) + 1
big = [bytes(range(256)) * (i % 50) for i in range(3000)]
print(len(d), len(s), hashlib.sha256(s.encode()).hexdigest())
print(sorted(freq.items())[:5], sum(len(b) for b in big))
PY
	compare python3 /usr/bin/python3 "$tmp/alloc.py"
fi

if have perl perl; then
	compare perl perl -e 'my %h; for my $i (1 .. 200000) { $h{"k$i"} = [$i, "v" x ($i % 9)]; }
		delete $h{"k$_"} for grep { $_ % 3 == 0 } 1 .. 200000;
		my %c; $c{length $_->[1]}++ for values %h;
		my $s = join ",", map { "$_=$h{$_}[0]" } sort keys %h;
		print scalar(keys %h), " ", length($s), "\n"; print "$_ $c{$_}\n" for sort keys %c;'
fi

if have gcc gcc; then
	compare gcc --file "$tmp/threads.o" gcc -O2 -g -Wall -c "$repo/tests/preload/threads.c" -o "$tmp/threads.o"
fi

if have sqlite3 sqlite3; then
	compare sqlite3 sqlite3 :memory: "create table t(a integer primary key, b text, c integer);
		with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000)
		insert into t select i, hex(i * 7919), i % 1000 from n;
		create index tc on t(c); select c, count(*), max(b) from t group by c order by c limit 20;
		select count(distinct b), sum(length(b)) from t;"
fi

if have git git; then
	compare git-log git -c safe.directory='*' -C "$repo" log --stat --format='%H %an %s' -n 100
	compare git-rev-list git -c safe.directory='*' -C "$repo" rev-list --objects HEAD
	compare git-ls-files git -c safe.directory='*' -C "$repo" ls-files -s
fi
