# The C file that gcc compiles in make bench-preload: n functions (-v n=N)
# over a few structs, each with loops, a switch, calls to the previous ones
# and string constants, so that the compiler builds and optimises many
# trees, RTL and tables.  The same n gives the same bytes.
BEGIN {
	print "#include <stddef.h>"
	print "struct node { struct node *next; int key; double w; char name[16]; };"
	print "struct table { struct node *slot[64]; size_t count; unsigned long seed; };"
	print "extern int printf(const char *, ...);"
	print "static unsigned long mix(unsigned long x) { x ^= x >> 33; x *= 0xff51afd7ed558ccdUL; return x ^ (x >> 29); }"
	for (i = 0; i < n; i++) {
		printf "int f%d(struct table *t, int a, const char *s)\n{\n", i
		printf "\tint r = a * %d + %d;\n\tdouble acc = 0;\n", i % 17 + 3, i
		printf "\tfor (int k = 0; k < a %% %d + 8; k++) {\n", i % 13 + 2
		printf "\t\tstruct node *p = t->slot[(mix(t->seed + k) + %d) & 63];\n", i
		printf "\t\twhile (p && p->key != k + %d) { acc += p->w * %d.5; p = p->next; }\n", i % 5, i % 9
		printf "\t\tswitch ((r + k) & 7) {\n"
		for (c = 0; c < 8; c++)
			printf "\t\tcase %d: r = r * %d + (s[%d] ? s[%d] : %d); break;\n", c, c * 2 + 3, c % 4, c % 4, i + c
		printf "\t\t}\n\t}\n"
		if (i > 0)
			printf "\tif (r & 1) r += f%d(t, a - 1, \"%s%d\");\n", i - 1, "str", i
		if (i > 2)
			printf "\tif (r & 2) r ^= f%d(t, a >> 1, s + 1);\n", int(i / 3)
		printf "\tif (acc > %d.0) printf(\"f%d %%d %%f\\n\", r, acc);\n", i % 100, i
		printf "\treturn r + (int)acc;\n}\n"
	}
}
