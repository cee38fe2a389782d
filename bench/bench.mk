# make bench: bench/bench.c built three ways, then bench/run.sh measures
# every allocator and prints one table (docs/BENCH.md); bench/threads.c,
# built two ways, adds the Threads table (make bench-threads: that one
# alone).  Included by the top-level Makefile.
BENCH := $(BUILD)/bench

.PHONY: bench bench-deps

# valgrind, strace, musl-gcc and the preloaded peers: installed as root,
# otherwise named in the apt-get command to type.
bench-deps:
	@sh bench/run.sh deps

# Freestanding and static against barealloc, compiled as the tests are.
$(BENCH)/bench.o: bench/bench.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_x86_64) -DBA_FREESTANDING -MMD -MP -c $< -o $@
$(BENCH)/bench-barealloc: $(BENCH)/bench.o $(BUILD)/x86_64/libbarealloc.a linker.ld
	$(LD) -m elf_x86_64 $(LDFLAGS) -o $@ $< $(BUILD)/x86_64/libbarealloc.a

# Hosted against glibc; run as is, and with LD_PRELOAD for the other peers.
# -g, like the freestanding build, lets run.sh find bench.c's own cost.
$(BENCH)/bench-hosted: bench/bench.c bench/host.h bench/bench.mk | bench-deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra $< -o $@

$(BENCH)/bench-musl: bench/bench.c bench/host.h bench/bench.mk | bench-deps
	@mkdir -p $(@D)
	musl-gcc -std=c11 -O2 -g -static -Wall -Wextra $< -o $@

# The threaded workloads, bench/threads.c: freestanding against barealloc
# and its threads (ba_thread.h), as bench-barealloc is, and hosted with
# pthreads against glibc (the peers preloaded by run.sh).
$(BENCH)/threads.o: bench/threads.c | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CFLAGS_x86_64) -DBA_FREESTANDING -MMD -MP -c $< -o $@
$(BENCH)/threads-barealloc: $(BENCH)/threads.o $(BUILD)/x86_64/libbarealloc.a linker.ld
	$(LD) -m elf_x86_64 $(LDFLAGS) -o $@ $< $(BUILD)/x86_64/libbarealloc.a
$(BENCH)/threads-hosted: bench/threads.c bench/host.h bench/bench.mk | bench-deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -pthread -Wall -Wextra $< -o $@
THREAD_BINS := $(BENCH)/threads-barealloc $(BENCH)/threads-hosted

# Only the Threads table: make bench-threads.
.PHONY: bench-threads
bench-threads: bench-deps $(THREAD_BINS)
	sh bench/run.sh threads $(BENCH)

# Code size: the allocator's objects (alloc/, where an alloc/<isa>/X.asm
# replaces alloc/X.c, as in the library) compiled again at -Os and -O2 per
# ISA, under $(BENCH)/text/<isa>-<opt>/.  The assembly is the library's.
# text/objects lists them for run.sh, so that an object left over from a
# file since removed is not counted.
BENCH_OPTS := Os O2
define bench_text
$(BENCH)/text/$(1)-$(2)/%.c.o: %.c | deps
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(CFLAGS_$(1)) $$(CFLAGS_$$<) -$(2) -MMD -MP -c $$< -o $$@
$(BENCH)/text/$(1)-$(2)/%.asm.o: $(BUILD)/$(1)/%.asm.o
	@mkdir -p $$(@D)
	cp $$< $$@
BENCH_TEXT += $$(patsubst %,$(BENCH)/text/$(1)-$(2)/%.o,$$(filter alloc/%,$$(CSRC_$(1)) $$(ASMSRC_$(1))))
endef
$(foreach i,$(ISAS),$(foreach o,$(BENCH_OPTS),$(eval $(call bench_text,$(i),$(o)))))

# The size yardstick, bench/size.c, stripped: with barealloc-gcc -Os against
# libraries built with OPT='-Os -flto' (what make install OPT='-Os -flto'
# installs), and static with musl and glibc at -Os.
SIZE_BINS := $(foreach i,$(ISAS),$(BENCH)/size-barealloc-$(i)) $(BENCH)/size-musl-x86_64 \
	$(foreach i,$(ISAS),$(BENCH)/size-glibc-$(i))
$(BENCH)/os/barealloc-gcc: FORCE
	@$(MAKE) --no-print-directory BUILD=$(BENCH)/os OPT='-Os -flto' libs
$(BENCH)/size-barealloc-%: bench/size.c $(BENCH)/os/barealloc-gcc FORCE   # relinked: the libraries may have changed
	$(BENCH)/os/barealloc-gcc $(WRAPFLAG_$*) -Os -s -o $@ $<
$(BENCH)/size-musl-x86_64: bench/size.c | bench-deps
	musl-gcc -static -Os -s -o $@ $<
$(BENCH)/size-glibc-%: bench/size.c | bench-deps
	$(CC) $(WRAPFLAG_$*) -static -Os -s -o $@ $<

# Memory: bench/size.c again, built with -DWRITE_ONLY (the program, and as
# "baseline" its write-only twin), run by bench/peak.c, which reads VmHWM;
# bench/replay.c on the traces bench/tracegen.c writes.  barealloc's builds
# use the library as make builds it, with barealloc-gcc.
TRACES := random binary realloc compiler
MEM_BINS := $(BENCH)/peak $(foreach i,$(ISAS),$(BENCH)/rss-barealloc-$(i) $(BENCH)/rss-glibc-$(i) \
	$(BENCH)/replay-barealloc-$(i) $(BENCH)/replay-glibc-$(i)) $(BENCH)/rss-musl-x86_64 $(BENCH)/replay-musl-x86_64 \
	$(foreach t,$(TRACES),$(BENCH)/traces/$(t).rep)
$(BENCH)/peak: bench/peak.c bench/bench.mk | bench-deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra $< -o $@
$(BENCH)/tracegen: bench/tracegen.c bench/host.h bench/bench.mk
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra $< -o $@
$(BENCH)/traces/%.rep: $(BENCH)/tracegen
	@mkdir -p $(@D)
	$< $* > $@
$(BENCH)/rss-barealloc-%: bench/size.c $(BUILD)/barealloc-gcc $(BUILD)/%/libbarealloc.a
	$(BUILD)/barealloc-gcc $(WRAPFLAG_$*) -O2 -DWRITE_ONLY -o $@ $<
$(BENCH)/rss-glibc-%: bench/size.c | bench-deps
	$(CC) $(WRAPFLAG_$*) -static -O2 -DWRITE_ONLY -o $@ $<
$(BENCH)/rss-musl-x86_64: bench/size.c | bench-deps
	musl-gcc -static -O2 -DWRITE_ONLY -o $@ $<
$(BENCH)/replay-barealloc-%: bench/replay.c bench/host.h $(BUILD)/barealloc-gcc $(BUILD)/%/libbarealloc.a
	$(BUILD)/barealloc-gcc $(WRAPFLAG_$*) -O2 -Wall -Wextra -DBA_FREESTANDING -o $@ $<
$(BENCH)/replay-glibc-%: bench/replay.c bench/host.h | bench-deps
	$(CC) $(WRAPFLAG_$*) -std=c11 -O2 -Wall -Wextra -o $@ $<
$(BENCH)/replay-musl-x86_64: bench/replay.c bench/host.h | bench-deps
	musl-gcc -static -std=c11 -O2 -Wall -Wextra -o $@ $<

bench: bench-deps $(BENCH)/bench-barealloc $(BENCH)/bench-hosted $(BENCH)/bench-musl $(BENCH_TEXT) $(SIZE_BINS) $(MEM_BINS) $(THREAD_BINS)
	@printf '%s\n' $(BENCH_TEXT) > $(BENCH)/text/objects
	sh bench/run.sh $(BENCH)

# The byte loops against their C twins, both ISAs: make bench-bytes.
.PHONY: bench-bytes
define bench_bytes
$(BENCH)/bytes-$(1): bench/bytes.c $(BUILD)/$(1)/tests/mem_c.o $(BUILD)/$(1)/libbarealloc.a linker.ld | deps
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) $(CFLAGS_$(1)) -c $$< -o $$@.o
	$(LD) -m $(LDEMU_$(1)) $(LDFLAGS) -o $$@ $$@.o $(BUILD)/$(1)/tests/mem_c.o $(BUILD)/$(1)/libbarealloc.a
endef
$(foreach i,$(ISAS),$(eval $(call bench_bytes,$(i))))

bench-bytes: $(foreach i,$(ISAS),$(BENCH)/bytes-$(i)) | bench-deps
	@sh bench/bytes.sh $(BENCH)

# The pools' overheads, bench/pool_fill.c, freestanding on both ISAs: the
# share of a region that blocks of random sizes can use, the pools'
# metadata, the smallest region per block size (make bench-pool).
.PHONY: bench-pool
define bench_pool
$(BENCH)/pool_fill-$(1): bench/pool_fill.c $(BUILD)/$(1)/libbarealloc.a linker.ld | deps
	$$(call say,LD,$$@)
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) -c $$< -o $$@.o
	$(Q)$(LD) -m $(LDEMU_$(1)) $(LDFLAGS) -o $$@ $$@.o $(BUILD)/$(1)/libbarealloc.a
endef
$(foreach i,$(ISAS),$(eval $(call bench_pool,$(i))))

bench-pool: $(foreach i,$(ISAS),$(BENCH)/pool_fill-$(i))
	@$(foreach i,$(ISAS),$(BENCH)/pool_fill-$(i) && echo &&) true

# Real programs under LD_PRELOAD of each allocator: python3, perl, sort,
# gcc, sqlite3, awk and bench/threads.c's hosted build, run by
# bench/preload.sh through bench/wall (wall time, peak RSS), their outputs
# checked against glibc's (make bench-preload).  The inputs are generated
# once: the text that sort, perl and awk read, and the C file gcc compiles.
.PHONY: bench-preload
$(BENCH)/wall: bench/wall.c bench/bench.mk | bench-deps
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra $< -o $@
$(BENCH)/preload/text.txt: bench/preload/gentext.awk
	@mkdir -p $(@D)
	awk -v n=1000000 -f $< > $@.tmp && mv $@.tmp $@
$(BENCH)/preload/code.c: bench/preload/gencode.awk
	@mkdir -p $(@D)
	awk -v n=60 -f $< > $@
bench-preload: bench-deps $(BUILD)/x86_64/libbarealloc.so $(BENCH)/threads-hosted $(BENCH)/wall \
		$(BENCH)/preload/text.txt $(BENCH)/preload/code.c
	sh bench/preload.sh $(BENCH) $(BUILD)/x86_64/libbarealloc.so
