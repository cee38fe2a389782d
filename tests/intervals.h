/* An exact set of disjoint address intervals [start, end), for tests that
 * must prove no two live blocks overlap: a treap keyed by start, in static
 * arrays of IV_MAX nodes (define IV_MAX before including).  Insert, erase
 * and the overlap query are O(log n) expected; no allocation, of course. */
#ifndef INTERVALS_H
#define INTERVALS_H

#include "ba_types.h"

static uintptr_t iv_key[IV_MAX + 1], iv_end[IV_MAX + 1];
static uint32_t iv_l[IV_MAX + 1], iv_r[IV_MAX + 1], iv_pri[IV_MAX + 1], iv_root;
static uint32_t iv_free[IV_MAX], iv_nfree;

static void iv_init(void)
{
	for (uint32_t t = 0; t < IV_MAX; t++)
		iv_free[iv_nfree++] = IV_MAX - t;
}

static void iv_split(uint32_t t, uintptr_t k, uint32_t *a, uint32_t *b) /* a: keys < k */
{
	if (!t) {
		*a = *b = 0;
	} else if (iv_key[t] < k) {
		iv_split(iv_r[t], k, &iv_r[t], b);
		*a = t;
	} else {
		iv_split(iv_l[t], k, a, &iv_l[t]);
		*b = t;
	}
}

static uint32_t iv_merge(uint32_t a, uint32_t b)
{
	if (!a || !b)
		return a ? a : b;
	if (iv_pri[a] > iv_pri[b]) {
		iv_r[a] = iv_merge(iv_r[a], b);
		return a;
	}
	iv_l[b] = iv_merge(a, iv_l[b]);
	return b;
}

/* The intervals are disjoint, so the one starting last before e is the
 * only one that can reach past s. */
static int iv_overlaps(uintptr_t s, uintptr_t e)
{
	uint32_t t = iv_root, best = 0;

	while (t) {
		if (iv_key[t] < e) {
			best = t;
			t = iv_r[t];
		} else {
			t = iv_l[t];
		}
	}
	return best && iv_end[best] > s;
}

/* pri: a random number, which keeps the treap balanced. */
static void iv_insert(uintptr_t s, uintptr_t e, uint32_t pri)
{
	uint32_t t, a, b;

	if (!iv_nfree)   /* only after an overlap left stale nodes */
		return;
	t = iv_free[--iv_nfree];
	iv_key[t] = s;
	iv_end[t] = e;
	iv_l[t] = iv_r[t] = 0;
	iv_pri[t] = pri;
	iv_split(iv_root, s, &a, &b);
	iv_root = iv_merge(iv_merge(a, t), b);
}

static void iv_erase(uintptr_t s)
{
	uint32_t a, b, m, c;

	iv_split(iv_root, s, &a, &b);
	iv_split(b, s + 1, &m, &c);
	iv_root = iv_merge(a, c);
	if (m)
		iv_free[iv_nfree++] = m;
}

/* In-order walk: starts increase and no interval reaches into the next. */
static int iv_sorted(uint32_t t, uintptr_t *last_end)
{
	if (!t)
		return 1;
	if (!iv_sorted(iv_l[t], last_end) || iv_key[t] < *last_end)
		return 0;
	*last_end = iv_end[t];
	return iv_sorted(iv_r[t], last_end);
}

#endif
