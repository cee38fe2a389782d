# The perl workload of make bench-preload: hashes.  Reads the text of
# gentext.awk (the file named first), counts every word and every pair of
# words in hashes, keeps a list of keys per word in a hash of arrays, then
# sorts the words by count and prints a summary, in an order independent
# of perl's hash seed.
use strict;
use warnings;

my (%count, %pair, %keys);
open(my $in, '<', $ARGV[0]) or die "$ARGV[0]: $!";
my $lines = 0;
while (my $line = <$in>) {
	last if ++$lines > ($ARGV[1] // 1e9);
	my ($key, $w1, $w2, $n) = split ' ', $line;
	$count{$w1}++;
	$count{$w2}++;
	$pair{"$w1 $w2"} += $n;
	push @{$keys{$w1}}, $key if @{$keys{$w1} // []} < 8;
}
close $in;
my @words = sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;
print scalar(@words), " words, ", scalar(keys %pair), " pairs\n";
for my $w (@words[0 .. 49]) {
	print "$w $count{$w} ", join(',', sort @{$keys{$w} // []}), "\n";
}
my ($sum, $len) = (0, 0);
while (my ($k, $v) = each %pair) {
	$sum += $v;
	$len += length $k;
}
print "pairs sum $sum, key bytes $len\n";
my %inverse;
push @{$inverse{$count{$_}}}, $_ for keys %count;
print scalar(keys %inverse), " distinct counts\n";
