# SPDX-License-Identifier: MIT
#
# amxrt top-level Makefile (GNU make).
#
#   make                 libamxrt.a, libamxrt.so and the tools into build/
#   make check           build and run every test (kselftest programs)
#   make kmod            amxrt.ko (kmod/, against linux-headers-amd64)
#   make kmod-check      amxrt.ko and its kselftests in QEMU (also in check)
#   make bench           run the benchmarks
#   make install         PREFIX=/usr/local DESTDIR= : library, headers,
#                        pkg-config file, tools, man pages
#   make format-check    clang-format (kernel rules) over the tree
#   make fuzz            FUZZ_TIME=60: fuzz the GGUF reader and tokenizer loader
#
# Variables: BUILD=dir (default build), SAN=1 (AddressSanitizer and
# UndefinedBehaviorSanitizer, default build dir build-san), WERROR=0 to
# let warnings pass, CC, CFLAGS, LDFLAGS.

SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-san
else
BUILD ?= build
endif
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
WERROR ?= 1
KSFT_TARBALL ?= /usr/src/linux-source-6.1.tar.xz

VERSION := 0.1.0
SOVERSION := 0

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT := -O2 -g
BASE_CFLAGS := -std=gnu11 $(OPT) $(WARN) -D_GNU_SOURCE -fPIC \
	-fvisibility=hidden -Iinclude -pthread
SAN_FLAGS :=
ifeq ($(SAN),1)
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
endif
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN_FLAGS) $(CFLAGS)
# PCRE2 runs the byte-level BPE pre-tokenizer patterns (UTF + Unicode properties).
# libnuma places the fallback weight arenas on NUMA nodes (mbind, move_pages).
LIBS := -lpcre2-8 -lnuma -luring -lm
ALL_LDFLAGS = $(SAN_FLAGS) $(LDFLAGS) -pthread $(LIBS)

# Per-file instruction-set flags: only the files of a path get its ISA.
ISA_AVX2 := -mavx2 -mfma -mf16c
ISA_AVX512 := $(ISA_AVX2) -mavx512f -mavx512bw -mavx512vl -mavx512dq \
	-mavx512vnni -mavx512bf16
ISA_AMX := $(ISA_AVX512) -mamx-tile -mamx-int8 -mamx-bf16

LIB_SRCS := $(sort $(wildcard libamxrt/*/*.c))
LIB_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
# The AMX kernel source is built a second time against the tile model.
ifneq ($(wildcard libamxrt/kernels/amx.c),)
LIB_OBJS += $(BUILD)/obj/libamxrt/kernels/amx_sim.o
endif

$(BUILD)/obj/libamxrt/kernels/avx2.o: EXTRA := $(ISA_AVX2) -O3
$(BUILD)/obj/libamxrt/kernels/avx512.o: EXTRA := $(ISA_AVX512) -O3
$(BUILD)/obj/libamxrt/kernels/generic.o: EXTRA := -O3
$(BUILD)/obj/libamxrt/kernels/pack_avx512.o: EXTRA := $(ISA_AVX512) -O3
$(BUILD)/obj/libamxrt/kernels/amx.o: EXTRA := $(ISA_AMX)
$(BUILD)/obj/libamxrt/kernels/amx_sim.o: EXTRA := $(ISA_AVX512) -DAMXRT_TILE_SIM
$(BUILD)/obj/libamxrt/kernels/tilesim.o: EXTRA := $(ISA_AVX512)
$(BUILD)/obj/libamxrt/bench/limits_avx2.o: EXTRA := $(ISA_AVX2) -O3
$(BUILD)/obj/libamxrt/bench/limits_avx512.o: EXTRA := $(ISA_AVX512) -O3
$(BUILD)/obj/libamxrt/model/attention_avx512.o: EXTRA := $(ISA_AVX512) -O3
$(BUILD)/obj/libamxrt/model/swiglu_avx512.o: EXTRA := $(ISA_AVX512) -O3
$(BUILD)/obj/libamxrt/model/norm_avx512.o: EXTRA := $(ISA_AVX512) -O3
# no FMA contraction: the same roundings as the portable RoPE, bit for bit
$(BUILD)/obj/libamxrt/model/rope_avx512.o: EXTRA := $(ISA_AVX512) -O3 \
	-ffp-contract=off

LIB_A := $(BUILD)/lib/libamxrt.a
LIB_SO := $(BUILD)/lib/libamxrt.so.$(VERSION)

TOOLS := $(patsubst tools/%.c,%,$(filter tools/amxrt-%.c,$(wildcard tools/*.c)))
TOOL_BINS := $(addprefix $(BUILD)/bin/,$(TOOLS))
TOOL_LIBOBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out tools/amxrt-%.c,$(wildcard tools/*.c)))

.PHONY: all lib tools check bench bench-models install uninstall clean format format-check \
	kselftest-headers tests example fuzz kmod kmod-check

all: lib tools

# keep object files of the tools between builds
.SECONDARY:

lib: $(LIB_A) $(LIB_SO)
tools: $(TOOL_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(EXTRA) -MMD -MP -c $< -o $@

$(BUILD)/obj/libamxrt/kernels/amx_sim.o: libamxrt/kernels/amx.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(EXTRA) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS) libamxrt/libamxrt.map
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libamxrt.so.$(SOVERSION) \
		-Wl,--version-script=libamxrt/libamxrt.map -Wl,-z,defs \
		-o $@ $(LIB_OBJS) $(ALL_LDFLAGS)
	ln -sf libamxrt.so.$(VERSION) $(BUILD)/lib/libamxrt.so.$(SOVERSION)
	ln -sf libamxrt.so.$(VERSION) $(BUILD)/lib/libamxrt.so

# Tools link the static library: they use only include/amxrt/.
$(BUILD)/bin/%: $(BUILD)/obj/tools/%.o $(TOOL_LIBOBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(ALL_LDFLAGS)

# ---- tests (kselftest) ---------------------------------------------------
KSFT_DIR := $(BUILD)/kselftest

kselftest-headers: $(KSFT_DIR)/kselftest_harness.h

$(KSFT_DIR)/kselftest_harness.h:
	@test -r $(KSFT_TARBALL) || { echo "error: $(KSFT_TARBALL) is missing: apt-get install linux-source-6.1" >&2; exit 1; }
	@mkdir -p $(KSFT_DIR)
	tar -xJf $(KSFT_TARBALL) -C $(KSFT_DIR) --strip-components=4 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h
	@touch $@

tests: lib $(KSFT_DIR)/kselftest_harness.h
	$(MAKE) -C tests OUTPUT=$(abspath $(BUILD))/tests \
		LIBAMXRT=$(abspath $(LIB_A)) KSFT_INC=$(abspath $(KSFT_DIR)) \
		EXTRA_CFLAGS="$(SAN_FLAGS) $(WARN)" EXTRA_LDFLAGS="$(SAN_FLAGS)"
	install -m 755 tests/kmod/kmod_vm.sh $(BUILD)/tests/kmod_vm

kmod:
	$(MAKE) -C kmod

kmod-check:
	scripts/kmod-check.sh

check: all tests
	tests/run_tests.sh $(abspath $(BUILD))/tests $(abspath $(BUILD))/bin

bench: all
	$(BUILD)/bin/amxrt-bench gemm

# The model benchmark of Documentation/benchmarks.md: random-weight models
# at TinyLlama-1.1B shapes (Q4_0, Q8_0) and the MoE benchmark shapes, written
# once into build/models/ (2.8 GB), then timed like llama-bench.
BENCH_MODELS := $(BUILD)/models/tl-q4_0.gguf $(BUILD)/models/tl-q8_0.gguf \
	$(BUILD)/models/moe-q4_0.gguf
BENCH_FLAGS ?= -p 64,512 -n 128 -r 3

$(BUILD)/models/tl-%.gguf: | all
	@mkdir -p $(@D)
	$(BUILD)/bin/amxrt-mkmodel --preset tinyllama-1.1b --type $* -o $@

$(BUILD)/models/moe-%.gguf: | all
	@mkdir -p $(@D)
	$(BUILD)/bin/amxrt-mkmodel --preset moe-bench --type $* -o $@

bench-models: all $(BENCH_MODELS)
	$(BUILD)/bin/amxrt-bench $(addprefix -m ,$(BENCH_MODELS)) $(BENCH_FLAGS)

# ---- install -------------------------------------------------------------
LIBDIR ?= $(PREFIX)/lib
INCDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man

install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/amxrt \
		$(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man7
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libamxrt.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libamxrt.so.$(SOVERSION)
	ln -sf libamxrt.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libamxrt.so
	install -m 644 include/amxrt/*.h $(DESTDIR)$(INCDIR)/amxrt/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCDIR@|$(INCDIR)|' -e 's|@VERSION@|$(VERSION)|' \
		libamxrt/amxrt.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/amxrt.pc
	$(if $(TOOL_BINS),install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(wildcard man/*.1),install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/)
	$(if $(wildcard man/*.3),install -m 644 $(wildcard man/*.3) $(DESTDIR)$(MANDIR)/man3/)
	$(if $(wildcard man/*.7),install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7/)

# The embedding example, built against an installed tree via pkg-config.
example:
	rm -rf $(BUILD)/stage
	$(MAKE) install DESTDIR=$(abspath $(BUILD))/stage PREFIX=/usr
	PKG_CONFIG_SYSROOT_DIR=$(abspath $(BUILD))/stage \
	PKG_CONFIG_LIBDIR=$(abspath $(BUILD))/stage/usr/lib/pkgconfig:$(shell pkg-config --variable pc_path pkg-config) \
	$(MAKE) -C examples BUILD=$(abspath $(BUILD))/examples
	LD_LIBRARY_PATH=$(abspath $(BUILD))/stage/usr/lib $(BUILD)/examples/embed

# ---- fuzzing -------------------------------------------------------------
# make fuzz [FUZZ_TIME=60]: the GGUF reader and the tokenizer loader under
# libFuzzer + ASan + UBSan
# (clang), built apart in build-fuzz/ from the sources it needs. New inputs
# go to build-fuzz/corpus (fuzz/corpus/gguf, the committed seeds, is only
# read); a crash leaves build-fuzz/crash-* and fails the target.
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_SRCS := fuzz/gguf_fuzz.c libamxrt/gguf/read.c libamxrt/gguf/query.c \
	libamxrt/core/error.c libamxrt/core/mem.c $(wildcard libamxrt/tok/*.c)
FUZZ_CFLAGS := -std=gnu11 -O1 -g -D_GNU_SOURCE -Iinclude -pthread \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Werror

$(FUZZ_BUILD)/gguf_fuzz: $(FUZZ_SRCS) $(wildcard libamxrt/gguf/*.h) \
		$(wildcard libamxrt/tok/*.h) include/amxrt/gguf.h \
		include/amxrt/tokenizer.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SRCS) -o $@ -lpcre2-8 -lm

fuzz: $(FUZZ_BUILD)/gguf_fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus
	$(FUZZ_BUILD)/gguf_fuzz -max_total_time=$(FUZZ_TIME) -max_len=8192 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-dict=fuzz/gguf.dict -artifact_prefix=$(FUZZ_BUILD)/ \
		$(FUZZ_BUILD)/corpus fuzz/corpus/gguf

# ---- style ---------------------------------------------------------------
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d)
