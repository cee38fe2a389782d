# The awk workload of make bench-preload: associative arrays and strings
# over the text of gentext.awk.  Counts the words, sums the numbers per
# word, keeps the keys of each word joined in one growing string, then
# prints totals that do not depend on the order of "for (k in a)".
NR > lim { exit }
{
	count[$2]++
	count[$3]++
	sum[$2 " " $3] += $4
	if (length(keys[$2]) < 200)
		keys[$2] = keys[$2] "," $1
	up = toupper($3)
	gsub(/[aeiou]/, "", up)
	short[up]++
}
END {
	for (w in count) { words++; total += count[w]; if (count[w] > best || (count[w] == best && w < bw)) { best = count[w]; bw = w } }
	for (p in sum) { pairs++; s = (s + sum[p] * length(p)) % 1000000007 }
	for (w in keys) { n = split(keys[w], parts, ","); kl += n }
	for (u in short) shorts++
	print words, total, bw, best, pairs, s, kl, shorts
}
