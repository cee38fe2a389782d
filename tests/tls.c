/* Thread-local storage (start/tls.c): every thread, the main one included,
 * starts from the program's PT_TLS image (.tdata copied, .tbss zeroed),
 * with alignment kept, and its own copy of every variable, errno too.
 * Threads only record what they see: the harness prints from the main
 * thread alone, after the threads are joined. */
#include "t.h"
#include "barealloc.h"
#include "ba_thread.h"

#define THREADS 4
#define TDATA_INT 42
#define TDATA_STR "thread-local"
#define TDATA_WIDE 0x1122334455667788LL

static _Thread_local int tdata_int = TDATA_INT;
static _Thread_local char tdata_str[16] = TDATA_STR;
/* 64 > the 16 the runtime aligns the thread pointer to anyway: only the
 * image's own p_align can make this hold. */
static _Thread_local long long tdata_wide __attribute__((aligned(64))) = TDATA_WIDE;
static _Thread_local int tbss_words[64];
static _Thread_local char tbss_aligned[8] __attribute__((aligned(32)));

/* What one thread saw.  start_*: before it wrote anything; the rest after
 * every participant had written its own values (the barrier). */
struct report {
	int start_int, start_str, start_wide, start_tbss, start_errno;
	int wide_aligned, tbss_aligned_ok;
	int kept, kept_errno;
	int errno_location, self_points_to_self, below_tp, same_int;
	void *self, *errno_addr, *int_addr;
};

static struct report reports[THREADS + 2];   /* the threads, main, a grandchild */

/* A reusable barrier: the last to arrive bumps the generation and wakes
 * the others, who sleep on the futex until it changes. */
static struct {
	int count, gen;
} bar;

static void barrier_wait(int parties)
{
	int gen = __atomic_load_n(&bar.gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&bar.count, 1, __ATOMIC_ACQ_REL) == parties) {
		__atomic_store_n(&bar.count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&bar.gen, gen + 1, __ATOMIC_RELEASE);
		sys_futex(&bar.gen, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 0x7fffffff, 0, 0, 0);
		return;
	}
	while (__atomic_load_n(&bar.gen, __ATOMIC_ACQUIRE) == gen)
		sys_futex(&bar.gen, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, gen, 0, 0, 0);
}

/* An address whose alignment the compiler cannot assume from the
 * declaration (it would fold the checks below to true). */
static uintptr_t opaque(const void *p)
{
	uintptr_t a = (uintptr_t)p;

	__asm__("" : "+r"(a));
	return a;
}

static void observe_start(struct report *r)
{
	int zero = 1;

	r->start_int = tdata_int;
	r->start_str = t_streq(tdata_str, TDATA_STR);
	r->start_wide = tdata_wide == TDATA_WIDE;
	for (int i = 0; i < 64; i++)
		zero &= tbss_words[i] == 0;
	for (int i = 0; i < 8; i++)
		zero &= tbss_aligned[i] == 0;
	r->start_tbss = zero;
	r->start_errno = errno;
	r->wide_aligned = opaque(&tdata_wide) % 64 == 0;
	r->tbss_aligned_ok = opaque(tbss_aligned) % 32 == 0;
}

/* Values unique to participant k, so that storage shared with another
 * participant shows as someone else's value. */
static void write_own(int k)
{
	tdata_int = 1000 + k;
	tdata_str[0] = (char)('A' + k);
	tdata_wide = TDATA_WIDE ^ k;
	for (int i = 0; i < 64; i++)
		tbss_words[i] = k * 64 + i;
	tbss_aligned[7] = (char)k;
	errno = 100 + k;
}

static int own_kept(int k)
{
	int ok = tdata_int == 1000 + k && tdata_str[0] == 'A' + k &&
		 tdata_wide == (TDATA_WIDE ^ k) && tbss_aligned[7] == k;

	for (int i = 0; i < 64; i++)
		ok &= tbss_words[i] == k * 64 + i;
	return ok;
}

static void observe_identity(struct report *r)
{
	struct ba_thread *self = ba_thread_self();
	int *p = &tdata_int;

	r->self = self;
	r->self_points_to_self = *(void **)self == (void *)self;
	r->errno_addr = &errno;
	r->errno_location = ba_errno_location() == &errno;
	r->int_addr = (void *)p;
	/* Variant II: the TLS block lies just below the thread pointer. */
	r->below_tp = (char *)p < (char *)self && (char *)self - (char *)p < 4096;
	/* A write through the address (thread pointer + offset) reaches what
	 * a direct %fs/%gs-relative access reads (the asm hides from the
	 * compiler that p is &tdata_int). */
	__asm__ volatile("" : "+r"(p));
	*p = 5;
	r->same_int = tdata_int == 5;
}

/* The whole protocol of participant k: look, write, wait for everyone
 * else to write, check that nothing of ours changed. */
static void take_part(int k)
{
	struct report *r = &reports[k];

	observe_start(r);
	write_own(k);
	barrier_wait(THREADS + 1);
	r->kept = own_kept(k);
	r->kept_errno = errno == 100 + k;
	observe_identity(r);
}

/* A thread started by a thread: it must see the image, not its creator's
 * changed copy. */
static void *grandchild(void *arg)
{
	struct report *r = arg;

	observe_start(r);
	observe_identity(r);
	return 0;
}

static void *participant(void *arg)
{
	int k = (int)(uintptr_t)arg;
	struct ba_thread *g;

	take_part(k);
	if (k == 0 && ba_thread_create(&g, grandchild, &reports[THREADS + 1]) == 0)
		ba_thread_join(g, 0);
	return 0;
}

static void check_start(const char *who, const struct report *r, int check_errno)
{
	T_EQ(t_join(who, ": .tdata int starts at 42"), r->start_int, TDATA_INT);
	T_TRUE(t_join(who, ": .tdata string starts as \"" TDATA_STR "\""), r->start_str);
	T_TRUE(t_join(who, ": .tdata 64-byte-aligned long long starts as its initialiser"),
	       r->start_wide);
	T_TRUE(t_join(who, ": the 64-byte-aligned variable is 64-byte aligned"), r->wide_aligned);
	T_TRUE(t_join(who, ": the 32-byte-aligned .tbss array is 32-byte aligned"),
	       r->tbss_aligned_ok);
	T_TRUE(t_join(who, ": .tbss starts zeroed"), r->start_tbss);
	if (check_errno)
		T_EQ(t_join(who, ": errno starts at 0"), r->start_errno, 0);
}

static void check_identity(const char *who, const struct report *r)
{
	T_TRUE(t_join(who, ": the thread pointer's first word points to itself"),
	       r->self_points_to_self);
	T_TRUE(t_join(who, ": &errno == ba_errno_location()"), r->errno_location);
	T_TRUE(t_join(who, ": TLS lies just below the thread pointer (variant II)"), r->below_tp);
	T_TRUE(t_join(who, ": a TLS variable's address reaches the variable"), r->same_int);
}

static void check_participant(const char *who, const struct report *r)
{
	T_TRUE(t_join(who, ": its TLS values survive the others' writes"), r->kept);
	T_TRUE(t_join(who, ": its errno survives the others' writes"), r->kept_errno);
	check_identity(who, r);
}

/* No two participants share a thread pointer, an errno or a variable. */
static void check_distinct(int n)
{
	int self = 1, err = 1, var = 1;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++) {
			self &= reports[i].self != reports[j].self;
			err &= reports[i].errno_addr != reports[j].errno_addr;
			var &= reports[i].int_addr != reports[j].int_addr;
		}
	T_TRUE("ba_thread_self() differs in every thread", self);
	T_TRUE("&errno differs in every thread", err);
	T_TRUE("&tdata_int differs in every thread", var);
}

int main(void)
{
	struct ba_thread *t[THREADS];
	int created = 0;
	char who[32];

	/* Main is participant THREADS; its errno may have been set by start-up
	 * code, so its starting errno is not checked. */
	observe_start(&reports[THREADS]);
	check_start("main", &reports[THREADS], 0);
	for (int k = 0; k < THREADS; k++)
		created += ba_thread_create(&t[k], participant, (void *)(uintptr_t)k) == 0;
	T_EQ("ba_thread_create of every participant", created, THREADS);
	if (created != THREADS)
		return t_exit_status();   /* the barrier would wait for ever */
	take_part(THREADS);
	for (int k = 0; k < THREADS; k++)
		ba_thread_join(t[k], 0);

	check_participant("main", &reports[THREADS]);
	T_TRUE("main: errno still main's after the joins", errno == 100 + THREADS);
	for (int k = 0; k < THREADS; k++) {
		who[0] = 0;
		t_catu(t_cat(who, sizeof who, "thread "), sizeof who, (unsigned)k);
		check_start(who, &reports[k], 1);
		check_participant(who, &reports[k]);
	}
	check_start("a thread's thread", &reports[THREADS + 1], 1);
	check_identity("a thread's thread", &reports[THREADS + 1]);
	check_distinct(THREADS + 2);
	return t_exit_status();
}
