# The text that sort, perl and awk read: N lines (-v n=N) of a key of 8 hex
# digits, two words of a vocabulary of 60,000 and a number, from the
# Park-Miller generator (exact in awk's doubles), so every awk writes the
# same bytes.
function rnd() { x = x * 16807 % 2147483647; return x }
function word(k,   s, c) {
	s = ""
	do { c = k % 26; s = s sprintf("%c", 97 + c); k = int(k / 26) } while (k > 0)
	return s
}
BEGIN {
	x = 12345
	for (i = 0; i < n; i++) {
		w1 = rnd() % 60000; w2 = (rnd() % 250) * (rnd() % 240)
		printf "%08x %s%d %s %d\n", rnd(), word(w1), w1 % 7, word(w2), rnd() % 100000
	}
}
