# barealloc: a freestanding allocator and runtime for x86-64 and i386.
# `make help` lists the targets.  Outputs go to build/<isa>/.  Each step
# prints one short line; V=1 prints the commands in full.

VERSION := 0.1
ISAS    := x86_64 i386
BUILD   := build
PREFIX  ?= /usr/local
DESTDIR ?=
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

ifeq ($(origin CC),default)
CC      := gcc
endif
NASM    ?= nasm
LD      ?= ld
AR      ?= ar
OBJDUMP ?= objdump

# Per-ISA tables.
CFLAGS_x86_64 := -m64
CFLAGS_i386   := -m32 -march=i686 -mtune=generic
NASMFMT_x86_64 := elf64
NASMFMT_i386   := elf32
LDEMU_x86_64  := elf_x86_64
LDEMU_i386    := elf_i386
WRAPFLAG_x86_64 := -m64
WRAPFLAG_i386   := -m32
QEMU_x86_64   := qemu-x86_64
QEMU_i386     := qemu-i386

# Freestanding: no libc header (-nostdinc: only inc/), no libc object, no
# PIE, no stack protector, no unwind tables.  Stated once, for every object.
FREESTANDING := -ffreestanding -nostdinc -fno-pie -fno-pic -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none \
	-fno-common -ffunction-sections -fdata-sections
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-main
ifeq ($(CI),true)
WARN    += -Werror
endif
OPT     ?= -O2 -g
CFLAGS  := -std=c11 $(OPT) $(FREESTANDING) $(WARN) -Iinc
# OPT='-Os -flto' makes the smallest programs: link-time optimisation
# across the library and the program.  Its archives need gcc-ar's index.
ifneq ($(findstring -flto,$(OPT)),)
ifeq ($(origin AR),default)
AR      := gcc-ar
endif
endif
PICFLAGS := $(subst -fno-pie -fno-pic,-fPIC,$(CFLAGS))
# The shared objects link no libc, bind every symbol at load, and stay
# loaded once loaded: their fork hooks are registered with the libc for
# good (glibc would unregister them from a C runtime's finaliser, which
# they do not have).
SOLINK  := -shared -nostdlib -Wl,-z,now -Wl,-z,nodelete -Wl,-z,defs -Wl,--gc-sections
NASMFLAGS := -Iinc/ -Werror
LINKOPTS := -z max-page-size=4096 --gc-sections --build-id=none
LDFLAGS := -static -T linker.ld $(LINKOPTS)
comma   := ,

ifeq ($(V),1)
Q   :=
say  = @true
else
Q   := @
say  = @printf '  %-7s %s\n' '$(1)' '$(2)'
endif

# Every object depends on the flags it was built with, kept in this file:
# make install OPT=-Os really rebuilds.
FLAGS := $(BUILD)/flags
FLAGS_NOW := $(CC) $(CFLAGS) | $(NASM) $(NASMFLAGS) | $(LD) $(LDFLAGS) | $(SOLINK)
$(FLAGS): FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGS_NOW)' | cmp -s - $@ 2>/dev/null || echo '$(FLAGS_NOW)' > $@
.PHONY: FORCE

# Test programs: every tests/<name>.c but the harness; tests/harness.c and
# tests/<isa>/*.asm are linked into each.  Those named in HOOK_TESTS link
# libbarealloc-test.a (fault injection, sealing: alloc/hooks.h) instead of
# the product library.  The runner, tests/run.sh, runs them all.
TESTS   := $(filter-out harness,$(basename $(notdir $(wildcard tests/*.c))))
HOOK_TESTS := $(filter hook_%,$(TESTS))
# Built with the wrapper, as a user would, from standard headers.
WRAPPED_TESTS := $(filter std_%,$(TESTS))

# Examples: examples/*.c on both ISAs, and the pure-NASM examples/<isa>/*.asm,
# all built with build/barealloc-gcc.
EXAMPLES = $(basename $(notdir $(wildcard examples/*.c examples/$(1)/*.asm)))

.PHONY: all libs check demo install clean deps help
all: $(foreach i,$(ISAS),$(BUILD)/$(i)/libbarealloc.a $(BUILD)/$(i)/libbarealloc-test.a $(BUILD)/$(i)/libbarealloc-pool.so \
	$(BUILD)/$(i)/libbarealloc.so \
	$(addprefix $(BUILD)/$(i)/tests/,$(TESTS)) $(addprefix $(BUILD)/$(i)/examples/,$(call EXAMPLES,$(i))))
libs: $(foreach i,$(ISAS),$(BUILD)/$(i)/libbarealloc.a) $(BUILD)/barealloc-gcc

# The rules for one ISA.  A start/<isa>/X.asm or alloc/<isa>/X.asm replaces
# start/X.c or alloc/X.c by name; the C file stays as the portable reference.
define isa_rules
B_$(1)     := $(BUILD)/$(1)
ASMSRC_$(1) := start/$(1).asm syscall/$(1).asm $$(wildcard start/$(1)/*.asm alloc/$(1)/*.asm)
TWINS_$(1)  := $$(foreach d,start alloc,$$(patsubst $$(d)/$(1)/%.asm,$$(d)/%.c,$$(wildcard $$(d)/$(1)/*.asm)))
CSRC_$(1)  := $$(filter-out alloc/layout.c $$(TWINS_$(1)),$$(wildcard start/*.c alloc/*.c))
LIBOBJ_$(1) := $$(patsubst %,$(BUILD)/$(1)/%.o,$$(ASMSRC_$(1)) $$(CSRC_$(1)))
TESTOBJ_$(1) := $(BUILD)/$(1)/tests/harness.c.o $$(patsubst %,$(BUILD)/$(1)/%.o,$$(wildcard tests/$(1)/*.asm))

$(BUILD)/$(1)/libbarealloc.a: $$(LIBOBJ_$(1))
	$$(call say,AR,$$@)
	$(Q)rm -f $$@
	$(Q)$(AR) rcs $$@ $$^

# The same library with the test hooks compiled in (-DBA_TESTING).
$(BUILD)/$(1)/libbarealloc-test.a: $$(subst $(BUILD)/$(1)/,$(BUILD)/$(1)/testlib/,$$(LIBOBJ_$(1)))
	$$(call say,AR,$$@)
	$(Q)rm -f $$@
	$(Q)$(AR) rcs $$@ $$^

$(BUILD)/$(1)/testlib/%.c.o: %.c $(FLAGS) | deps
	$$(call say,CC,$$< [$(1), hooks])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) $$(CFLAGS_$$<) -DBA_TESTING -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/testlib/%.asm.o: $(BUILD)/$(1)/%.asm.o
	@mkdir -p $$(@D)
	$(Q)cp $$< $$@

$(BUILD)/$(1)/%.c.o: %.c $(FLAGS) | deps
	$$(call say,CC,$$< [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) $$(CFLAGS_$$<) -MMD -MP -c $$< -o $$@

# NASM's -MD names the source alone, not what it includes: the shared
# include and the syscall table are named here.
$(BUILD)/$(1)/%.asm.o: %.asm inc/barealloc.inc inc/ba_abi.tab $(FLAGS) | deps
	$$(call say,NASM,$$< [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(NASM) -f $(NASMFMT_$(1)) $(NASMFLAGS) -I$(BUILD)/$(1)/ $$(if $$(filter tests/%,$$<),,-DBA_LIBRARY) \
		-MD $$(@:.o=.d) -o $$@ $$<

# What the assembly fast paths know of the C structures (alloc/layout.c).
$(BUILD)/$(1)/layout.inc: alloc/layout.c $(FLAGS) | deps
	$$(call say,GEN,$$@)
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) -fno-lto -MMD -MP -MT $$@ -MF $$@.d -S $$< -o $$@.s
	$(Q)sed -n 's/^->//p' $$@.s > $$@
$$(patsubst %,$(BUILD)/$(1)/%.o,$$(wildcard alloc/$(1)/*.asm)): $(BUILD)/$(1)/layout.inc

# The pools as a shared object for programs that have a libc (python/):
# the allocator's C sources, position-independent, with the byte loops in
# assembly (they address nothing but their arguments) and the C twin of
# the fast paths (whose assembly addresses the state absolutely), so/glue.c
# as the glue's backend, and only the pool API exported (so/pool.map).
SOSRC_$(1) := $$(filter-out alloc/layout.c alloc/mem.c,$$(wildcard alloc/*.c)) so/glue.c so/options.c start/mutex.c \
	start/fmt.c $$(if $$(filter i386,$(1)),start/div64.c) syscall/$(1).asm alloc/$(1)/mem.asm
SOOBJ_$(1) := $$(patsubst %,$(BUILD)/$(1)/pic/%.o,$$(SOSRC_$(1)))
$(BUILD)/$(1)/libbarealloc-pool.so: $$(SOOBJ_$(1)) so/pool.map $(FLAGS)
	$$(call say,LD,$$@)
	$(Q)$(CC) $(CFLAGS_$(1)) $(SOLINK) -Wl,--version-script=so/pool.map -o $$@ $$(SOOBJ_$(1))

# The preload library (LD_PRELOAD): the same sources again, with
# -DBA_PRELOAD (the thread's heap in an initial-exec variable of
# so/preload.c, not in the runtime's control block) and so/preload.c; the
# malloc family exported under glibc's names (so/preload.map), and calls
# inside it bound at link time (-Bsymbolic-functions): no PLT in malloc.
# -z initfirst: its fork hooks go to glibc before any other library's.
PLOBJ_$(1) := $$(patsubst %,$(BUILD)/$(1)/preload/%.o,$$(SOSRC_$(1)) so/preload.c)
$(BUILD)/$(1)/libbarealloc.so: $$(PLOBJ_$(1)) so/preload.map $(FLAGS)
	$$(call say,LD,$$@)
	$(Q)$(CC) $(CFLAGS_$(1)) $(SOLINK) -Wl,-z,initfirst -Wl,-Bsymbolic-functions \
		-Wl,--version-script=so/preload.map -o $$@ $$(PLOBJ_$(1))

$(BUILD)/$(1)/pic/%.c.o: %.c $(FLAGS) | deps
	$$(call say,CC,$$< [$(1), pic])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(PICFLAGS) $(CFLAGS_$(1)) $$(CFLAGS_$$<) -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/preload/%.c.o: %.c $(FLAGS) | deps
	$$(call say,CC,$$< [$(1), preload])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(PICFLAGS) -DBA_PRELOAD $(CFLAGS_$(1)) $$(CFLAGS_$$<) -MMD -MP -c $$< -o $$@

$(BUILD)/$(1)/pic/%.asm.o: $(BUILD)/$(1)/%.asm.o
	@mkdir -p $$(@D)
	$(Q)cp $$< $$@

$(BUILD)/$(1)/preload/%.asm.o: $(BUILD)/$(1)/%.asm.o
	@mkdir -p $$(@D)
	$(Q)cp $$< $$@

# The C twin of the byte loops, renamed, as a second implementation to test.
$(BUILD)/$(1)/tests/mem_c.o: alloc/mem.c $(FLAGS) | deps
	$$(call say,CC,$$< as c_mem* [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) $(CFLAGS_alloc/mem.c) -Dmemcpy=c_memcpy -Dmemmove=c_memmove \
		-Dmemset=c_memset -Dmemcmp=c_memcmp -c $$< -o $$@
$(BUILD)/$(1)/tests/mem: $(BUILD)/$(1)/tests/mem_c.o

# The C reference of the 64-bit division helpers, renamed, for tests/arith.c.
$(BUILD)/$(1)/tests/div64_c.o: start/div64.c $(FLAGS) | deps
	$$(call say,CC,$$< as c_* [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) -D__udivmoddi4=c_udivmoddi4 -D__divmoddi4=c_divmoddi4 \
		-D__udivdi3=c_udivdi3 -D__umoddi3=c_umoddi3 -D__divdi3=c_divdi3 -D__moddi3=c_moddi3 \
		-MMD -MP -c $$< -o $$@
$(BUILD)/$(1)/tests/arith: $(BUILD)/$(1)/tests/div64_c.o

# The C twin of the fast paths, renamed, for tests/fast.c to compare.
$(BUILD)/$(1)/tests/fast_c.o: alloc/fast.c $(FLAGS) | deps
	$$(call say,CC,$$< as c_malloc c_free [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(CFLAGS) $(CFLAGS_$(1)) -Dmalloc=c_malloc -Dfree=c_free -MMD -MP -c $$< -o $$@
$(BUILD)/$(1)/tests/fast: $(BUILD)/$(1)/tests/fast_c.o

# Tests written against the standard headers, built with the wrapper.
$(BUILD)/$(1)/tests/std_%.c.o: tests/std_%.c $(BUILD)/barealloc-gcc $(FLAGS) | deps
	$$(call say,WRAP,$$< [$(1)])
	@mkdir -p $$(@D)
	$(Q)$(BUILD)/barealloc-gcc $(WRAPFLAG_$(1)) -std=c11 $(OPT) $(WARN) -Itests -MMD -MP -c $$< -o $$@

# Every program: its objects, the library, linker.ld; plus an objdump -S
# listing and a symbol table beside it, for reading what was built.
$(BUILD)/$(1)/tests/%: $(BUILD)/$(1)/tests/%.c.o $$(TESTOBJ_$(1)) $(BUILD)/$(1)/libbarealloc.a $(BUILD)/$(1)/libbarealloc-test.a linker.ld
	$$(call say,LD,$$@)
	$(Q)$(LD) -m $(LDEMU_$(1)) $(LDFLAGS) -o $$@ $$(filter %.o,$$^) \
		$(BUILD)/$(1)/libbarealloc$$(if $$(filter $$*,$(HOOK_TESTS)),-test).a
	$(Q)$(OBJDUMP) -dS $$@ > $$@.lst
	$(Q)nm -n $$@ > $$@.sym

# Examples in C and pure NASM, each built by the wrapper in one line.
$(BUILD)/$(1)/examples/%: examples/%.c $(BUILD)/barealloc-gcc $(BUILD)/$(1)/libbarealloc.a linker.ld $(FLAGS)
	$$(call say,WRAP,$$@)
	@mkdir -p $$(@D)
	$(Q)$(BUILD)/barealloc-gcc $(WRAPFLAG_$(1)) $(OPT) $(WARN) -o $$@ $$<
	$(Q)$(OBJDUMP) -dS $$@ > $$@.lst
	$(Q)nm -n $$@ > $$@.sym
$(BUILD)/$(1)/examples/%: examples/$(1)/%.asm examples/example.inc $(BUILD)/barealloc-gcc $(BUILD)/$(1)/libbarealloc.a linker.ld inc/barealloc.inc
	$$(call say,WRAP,$$@)
	@mkdir -p $$(@D)
	$(Q)$(BUILD)/barealloc-gcc $(WRAPFLAG_$(1)) -o $$@ $$<
	$(Q)$(OBJDUMP) -d $$@ > $$@.lst
	$(Q)nm -n $$@ > $$@.sym
endef
$(foreach i,$(ISAS),$(eval $(call isa_rules,$(i))))

.SECONDARY:

# Library objects that deserve their own flags.
CFLAGS_alloc/mem.c := -fno-tree-loop-distribute-patterns -fno-builtin
# crt.c calls main with three arguments whatever main declares: outside
# link-time optimisation, which would warn that the types differ.
CFLAGS_start/crt.c := -fno-omit-frame-pointer -fno-lto
$(foreach t,$(TESTS) harness,$(eval CFLAGS_tests/$(t).c := -fno-omit-frame-pointer -fno-tree-loop-distribute-patterns -Itests -Ialloc))

# barealloc-gcc, from barealloc-gcc.in: where the headers, libraries and
# linker script are, and the flags, all from this Makefile.
WRAP_SED = sed -e 's|@INC@|$(1)|' -e 's|@LIB@|$(2)|' -e 's|@LDSCRIPT@|$(3)|' -e 's|@VERSION@|$(VERSION)|' \
	-e 's|@CFLAGS@|$(FREESTANDING)|' -e 's|@LDFLAGS@|$(addprefix -Wl$(comma),$(LINKOPTS))|' \
	-e 's|@CFLAGS_x86_64@|$(CFLAGS_x86_64)|' -e 's|@CFLAGS_i386@|$(CFLAGS_i386)|'
$(BUILD)/barealloc-gcc: barealloc-gcc.in $(FLAGS)
	$(call say,GEN,$@)
	$(Q)$(call WRAP_SED,$(CURDIR)/inc,$(abspath $(BUILD)),$(CURDIR)/linker.ld) $< > $@
	$(Q)chmod +x $@

# make check and make demo build in parallel ($(JOBS) jobs), then run.
check:
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@ISAS="$(ISAS)" TESTS="$(TESTS)" EXAMPLES_x86_64="$(call EXAMPLES,x86_64)" \
		EXAMPLES_i386="$(call EXAMPLES,i386)" QEMU_x86_64=$(QEMU_x86_64) QEMU_i386=$(QEMU_i386) \
		MAKE="$(MAKE)" sh tests/run.sh $(BUILD)

demo:
	@$(MAKE) --no-print-directory -j$(JOBS) $(BUILD)/x86_64/examples/demo $(BUILD)/i386/examples/demo
	@echo "== x86-64, native"
	@$(BUILD)/x86_64/examples/demo first 'second arg'
	@echo "== i386, under $(QEMU_i386)"
	@$(QEMU_i386) $(BUILD)/i386/examples/demo first 'second arg'

# Only what is installed is built, with the flags of this call: OPT='-Os -flto'
# installs size-optimised libraries.
INCDIR := $(PREFIX)/include/barealloc
LIBDIR := $(PREFIX)/lib/barealloc
install:
	@$(MAKE) --no-print-directory -j$(JOBS) libs
	$(call say,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(INCDIR) $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(foreach i,$(ISAS),$(DESTDIR)$(LIBDIR)/$(i))
	$(Q)install -m 644 inc/*.h inc/*.tab inc/*.inc $(DESTDIR)$(INCDIR)/
	$(Q)install -m 644 linker.ld $(DESTDIR)$(LIBDIR)/
	$(Q)$(foreach i,$(ISAS),install -m 644 $(BUILD)/$(i)/libbarealloc.a $(DESTDIR)$(LIBDIR)/$(i)/ &&) true
	$(Q)$(call WRAP_SED,$(INCDIR),$(LIBDIR),$(LIBDIR)/linker.ld) barealloc-gcc.in > $(DESTDIR)$(PREFIX)/bin/barealloc-gcc
	$(Q)chmod 755 $(DESTDIR)$(PREFIX)/bin/barealloc-gcc
	$(Q)$(foreach i,$(ISAS),sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@ISA@|$(i)|' -e 's|@VERSION@|$(VERSION)|' \
		-e 's|@ISAFLAGS@|$(CFLAGS_$(i))|' -e 's|@CFLAGS@|$(FREESTANDING)|' \
		-e 's|@GCCINC@|$(shell $(CC) -print-file-name=include)|' \
		-e 's|@LDFLAGS@|$(addprefix -Wl$(comma),$(LINKOPTS))|' \
		barealloc.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/barealloc-$(i).pc &&) true

clean:
	rm -rf $(BUILD) python/build python/barealloc.egg-info

# The tools the build needs, installed with apt-get when run as root, or
# else named in the exact command to type.  Everything else depends on it.
DEPS_CHECK = \
	command -v $(NASM) >/dev/null 2>&1 || echo nasm; \
	for t in $(LD) $(AR) nm readelf $(OBJDUMP); do command -v $$t >/dev/null 2>&1 || { echo binutils; break; }; done; \
	for t in $(foreach i,$(ISAS),$(QEMU_$(i))); do command -v $$t >/dev/null 2>&1 || { echo qemu-user; break; }; done; \
	command -v pkg-config >/dev/null 2>&1 || echo pkgconf; \
	! command -v python3 >/dev/null 2>&1 || python3 -c 'import pytest' 2>/dev/null || \
		/usr/bin/python3 -c 'import pytest' 2>/dev/null || echo python3-pytest; \
	test -e "$$($(CC) -m32 -print-libgcc-file-name 2>/dev/null)" || echo gcc-multilib
deps:
	@missing=$$( { $(DEPS_CHECK); } | tr '\n' ' '); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "deps: installing $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	else \
		echo "deps: missing $$missing; install them with:"; \
		echo "  sudo apt-get install -y $$missing"; exit 1; \
	fi

help:
	@echo "make            build build/x86_64/ and build/i386/: libbarealloc.a, tests, examples"
	@echo "make libs       only the libraries and build/barealloc-gcc"
	@echo "make check      build in parallel, run every test on x86-64 and i386, natively and under QEMU"
	@echo "make demo       run the demo natively (x86-64) and under qemu-i386"
	@echo "make bench      barealloc against glibc, musl, jemalloc, mimalloc, tcmalloc (docs/BENCH.md)"
	@echo "make bench-threads  only the threaded workloads' table, with 1 and 2 threads"
	@echo "make bench-pool the pools' utilization and metadata, both ISAs"
	@echo "make bench-preload  real programs under each allocator's LD_PRELOAD: time, peak RSS"
	@echo "make install    install barealloc-gcc, both libraries, headers, NASM include, linker.ld,"
	@echo "                pkg-config files (PREFIX, DESTDIR; OPT='-Os -flto' for the smallest programs)"
	@echo "make deps       install nasm, binutils, qemu-user, gcc-multilib, pkgconf (and python3-pytest"
	@echo "                where python3 is) if missing"
	@echo "make clean      remove build/"
	@echo "V=1             show every command in full"

# The preload library's hosted tests (tests/preload/*.c): glibc programs
# built with the system's gcc, which tests/run.sh runs with
# build/<isa>/libbarealloc.so preloaded.  -fno-builtin keeps every call
# the source makes: gcc would otherwise drop a malloc whose block is
# unused, or a free of it.
PRELOAD_TESTS := $(basename $(notdir $(wildcard tests/preload/*.c)))
HOSTED_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -fno-builtin -pthread
define preload_test_rules
$(BUILD)/$(1)/preload-tests/%: tests/preload/%.c tests/preload/hosted.h | deps
	$$(call say,CC,$$< [$(1)$$(comma) hosted])
	@mkdir -p $$(@D)
	$(Q)$(CC) $(WRAPFLAG_$(1)) $(HOSTED_CFLAGS) -o $$@ $$< -ldl
endef
$(foreach i,$(ISAS),$(eval $(call preload_test_rules,$(i))))
all: $(foreach i,$(ISAS),$(addprefix $(BUILD)/$(i)/preload-tests/,$(PRELOAD_TESTS)))

# The benchmark against glibc, musl, jemalloc, mimalloc and tcmalloc.
-include bench/bench.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
