# SPDX-License-Identifier: MIT
# l2tpd: a static, dependency-free tunneldigger client.
#
#   make            static l2tpd (musl-gcc when present, else the system cc)
#   make test       unit tests, then the kernel scenarios (in a VM if needed)
#   make demo       bring a tunnel up against the test broker and ping across
#   make test-cross unit tests and corpus replay for mips, mipsel, armhf and
#                   aarch64, static, under qemu-user
#   make size       binary sizes: static and dynamic, x86_64 and cross
#   make deps       install what the build and the tests need (Debian)
#   make SAN=1 ...  ASan+UBSan build of everything (not static)

VERSION := 0.1.0

MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(origin CC),default)
  ifeq ($(SAN),1)
    CC := cc
  else ifneq ($(MUSL_CC),)
    CC := musl-gcc
  else
    CC := cc
  endif
endif
HOSTCC ?= cc

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	-Wformat=2 -Wmissing-prototypes -Wstrict-prototypes -Wvla
# 64-bit file offsets and time_t also with glibc on 32-bit targets, as musl
# always has them
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -D_TIME_BITS=64 \
	-DL2TPD_VERSION='"$(VERSION)"' $(WARN) -MMD -MP

# no unwind tables and section GC: about 8 KiB less in the static binary
REL_OPT := -Os -fno-asynchronous-unwind-tables -ffunction-sections -fdata-sections
ifeq ($(SAN),1)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  STATIC :=
  B := build/san
  BIN := $(B)/l2tpd
else
  OPT := $(REL_OPT)
  # noseparate-code: the read-only data shares the code's pages instead of
  # starting pages of its own, up to 8 KiB of padding in a static binary
  STATIC := -static -Wl,--gc-sections -Wl,-z,noseparate-code
  B := build/rel
  BIN := l2tpd
endif
CFLAGS ?= $(OPT)
override CFLAGS += $(BASE_CFLAGS)
ifeq ($(SAN),1)
  HOST_CFLAGS := $(BASE_CFLAGS) $(OPT)
  HOST_LDFLAGS := -fsanitize=address,undefined
else
  HOST_CFLAGS := $(BASE_CFLAGS) -O2 -g
  HOST_LDFLAGS :=
endif
BT := $(B)/host-$(notdir $(HOSTCC))

ifeq ($(V),1)
  Q :=
else
  Q := @
endif

CORE := addr.c proto.c nlmsg.c genl.c linkwatch.c netdev.c client.c dns.c log.c cli.c fmt.c hooks.c rundir.c tunnel.c
SRCS := $(CORE) l2tpd.c
OBJS := $(SRCS:%.c=$(B)/%.o)
HOST_CORE_OBJS := $(CORE:%.c=$(BT)/%.o)

UNIT_SRCS := $(wildcard test/unit/*.c)
UNIT_BIN := $(BT)/unit_tests

.PHONY: all clean test test-unit test-integration demo deps size strip check \
	fuzz fuzz-replay test-cross

all: $(BIN)

$(BIN): $(OBJS)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(STATIC) -o $@ $^

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BT)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(HOSTCC) $(HOST_CFLAGS) -I. -c -o $@ $<

$(UNIT_BIN): $(UNIT_SRCS:%.c=$(BT)/%.o) $(HOST_CORE_OBJS)
	@echo "  LD      $@"
	$(Q)$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^

$(BT)/broker: $(BT)/test/broker.o $(BT)/addr.o $(BT)/fmt.o $(BT)/proto.o $(BT)/nlmsg.o $(BT)/genl.o $(BT)/netdev.o
	@echo "  LD      $@"
	$(Q)$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^

$(BT)/spray: $(BT)/test/spray.o
	@echo "  LD      $@"
	$(Q)$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^

broker: $(BT)/broker

strip: l2tpd
	strip -o l2tpd.stripped l2tpd

# Our objects, then the stripped binaries of every architecture (test/size.sh);
# fails if the static x86_64 musl binary is over 64 KiB.
size: $(OBJS) strip
	@size $(OBJS)
	$(Q)MAKE="$(MAKE)" STATIC_BIN=l2tpd.stripped STATIC_CC="$(CC)" CROSS="$(CROSS)" \
		test/size.sh

test-unit: $(UNIT_BIN)
	$(UNIT_BIN)

TEST_ENV = L2TPD=$(CURDIR)/$(BIN) BROKER=$(CURDIR)/$(BT)/broker SPRAY=$(CURDIR)/$(BT)/spray
ifeq ($(SAN),1)
  # Sanitizers under emulation are several times slower: fewer leak
  # cycles, a shorter held outage and back-off window (the same code
  # paths), more time per scenario.
  TEST_ENV += CYCLES=100 OUTAGE_S=20 WINDOW_S=60 SCENARIO_TIMEOUT=600 SANITIZED=1
endif

# The whole set takes about 25 minutes in the VM (40 under sanitizers);
# the guest is stopped after L2TPD_TEST_VM_TIMEOUT seconds.
SCENARIOS_VM_TIMEOUT := $(or $(L2TPD_TEST_VM_TIMEOUT),3600)

test-integration: $(BIN) $(BT)/broker $(BT)/spray
	L2TPD_TEST_VM_TIMEOUT=$(SCENARIOS_VM_TIMEOUT) $(TEST_ENV) \
		test/vm test/integration.sh $(SCENARIOS)

test: test-unit test-openwrt fuzz-replay test-integration

demo: $(BIN) $(BT)/broker
	$(TEST_ENV) test/vm test/demo.sh

# libFuzzer harnesses (clang); each also links against a replay main() so
# any compiler can run the committed corpus.
FUZZERS := proto netlink client dns
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_SRCS := $(CORE:%=$(CURDIR)/%)
FUZZ_CFLAGS := $(BASE_CFLAGS) -I. -g -O1 -fno-omit-frame-pointer

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c $(CORE)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(CORE)

build/replay/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/replay.c $(CORE)
	@mkdir -p $(dir $@)
	@echo "  REPLAY  $@"
	$(Q)$(HOSTCC) $(FUZZ_CFLAGS) -fsanitize=address,undefined \
		-fno-sanitize-recover=all -o $@ $< test/fuzz/replay.c $(CORE)

fuzz-replay: $(FUZZERS:%=build/replay/fuzz_%)
	@for f in $(FUZZERS); do \
		printf '%-8s ' $$f; build/replay/fuzz_$$f test/fuzz/corpus/$$f || exit 1; \
	done

# The same replay built by HOSTCC without sanitizers (for cross compilers).
.PRECIOUS: $(BT)/%.o
$(BT)/replay/fuzz_%: $(BT)/test/fuzz/fuzz_%.o $(BT)/test/fuzz/replay.o $(HOST_CORE_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	$(Q)$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^

# Cross-built, static, run under qemu-user: NAME:TRIPLET:QEMU for each.
# qemu-user refuses NETLINK_GENERIC sockets, so the kernel path is not here.
CROSS := mips:mips-linux-gnu:qemu-mips-static \
	mipsel:mipsel-linux-gnu:qemu-mipsel-static \
	armhf:arm-linux-gnueabihf:qemu-arm-static \
	aarch64:aarch64-linux-gnu:qemu-aarch64-static
cross_triplet = $(word 2,$(subst :, ,$(1)))

test-cross:
	$(Q)for t in $(foreach c,$(CROSS),$(call cross_triplet,$(c))); do \
		$(MAKE) --no-print-directory SAN= HOSTCC=$$t-gcc HOST_LDFLAGS=-static \
			build/rel/host-$$t-gcc/unit_tests \
			$(FUZZERS:%=build/rel/host-$$t-gcc/replay/fuzz_%) || exit 1; \
	done
	$(Q)FUZZERS="$(FUZZERS)" test/cross.sh $(CROSS)

fuzz: $(FUZZERS:%=build/fuzz/fuzz_%)
	@for f in $(FUZZERS); do \
		mkdir -p build/fuzz/corpus-$$f; \
		echo "== fuzz_$$f for $(FUZZ_TIME) s"; \
		build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=build/fuzz/crash-$$f- \
			build/fuzz/corpus-$$f test/fuzz/corpus/$$f 2>build/fuzz/$$f.log || \
			{ tail -n 40 build/fuzz/$$f.log; exit 1; }; \
		grep -E 'stat::number_of_executed_units|cov:' build/fuzz/$$f.log | tail -n 2; \
	done

# Static analysis: cppcheck and clang's analyzer, zero findings.
ANALYZE_SRCS := $(SRCS) test/broker.c test/spray.c
check:
	cppcheck --quiet --enable=warning,performance,portability --std=c11 \
		--error-exitcode=1 -D_GNU_SOURCE -DL2TPD_VERSION='"x"' \
		--inline-suppr $(ANALYZE_SRCS)
	@for f in $(ANALYZE_SRCS); do \
		out=$$(clang --analyze -std=c11 -D_GNU_SOURCE -DL2TPD_VERSION='"x"' \
			-I. $$f -o /dev/null 2>&1); \
		[ -z "$$out" ] || { echo "$$out"; exit 1; }; \
	done; echo "clang --analyze: no findings"

deps:
	test/deps.sh

clean:
	rm -rf build/rel build/san build/fuzz build/replay build/size l2tpd l2tpd.stripped

-include $(shell find build -name '*.d' 2>/dev/null)

# Installation: make install [PREFIX=/usr/local] [DESTDIR=/staging/root]
PREFIX ?= /usr/local
SBINDIR = $(DESTDIR)$(PREFIX)/sbin
MAN8DIR = $(DESTDIR)$(PREFIX)/share/man/man8

.PHONY: install uninstall test-openwrt

install: l2tpd
	install -d $(SBINDIR) $(MAN8DIR)
	install -m 755 l2tpd $(SBINDIR)/l2tpd
	install -m 644 l2tpd.8 $(MAN8DIR)/l2tpd.8

uninstall:
	rm -f $(SBINDIR)/l2tpd $(MAN8DIR)/l2tpd.8

# The OpenWrt init script against stand-ins for UCI and procd.
test-openwrt:
	bash test/openwrt/test-init.sh

# Benchmarks: test/bench.sh measures in the VM (RUNS runs per timing,
# default 10; BENCH_IDLE_SECONDS of idle tunnel, default 300;
# BENCH_OUTAGE_SECONDS of WAN outage per run, default 40; about 30 min in
# all); the stripped binary's size (taken before the run, of the binary
# measured) and the machine are added here.
# The VM runs copies of the binaries and writes into its own results
# directory, so that a concurrent build or make test changes neither.
.PHONY: bench
BENCH_RESULTS := build/bench-results
BENCH_VM_TIMEOUT := $(or $(L2TPD_TEST_VM_TIMEOUT),3600)

bench: l2tpd $(BT)/broker
	rm -rf $(BENCH_RESULTS)
	$(Q)mkdir -p $(BENCH_RESULTS) && cut -d' ' -f1-3 /proc/loadavg >$(BENCH_RESULTS)/load-before
	$(Q)git describe --always --dirty >$(BENCH_RESULTS)/version 2>/dev/null || echo no git >$(BENCH_RESULTS)/version
	$(Q)$(MAKE) --no-print-directory strip
	$(Q)cp l2tpd l2tpd.stripped $(BT)/broker $(BENCH_RESULTS)/
	L2TPD_TEST_VM_TIMEOUT=$(BENCH_VM_TIMEOUT) $(TEST_ENV) \
		L2TPD=$(CURDIR)/$(BENCH_RESULTS)/l2tpd BROKER=$(CURDIR)/$(BENCH_RESULTS)/broker \
		test/vm --results $(BENCH_RESULTS) test/bench.sh
	$(Q)mkdir -p bench
	$(Q)size=$$(stat -c %s $(BENCH_RESULTS)/l2tpd.stripped); \
	if [ $$size -le 65536 ]; then v=met; \
	else v="missed by $$((size - 65536)) bytes (+$$(( (size - 65536) * 100 / 65536 ))%)"; fi; \
	{ echo "# l2tpd benchmarks"; echo; \
	  echo "- machine: $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $$(nproc) cores"; \
	  echo "- date: $$(date -u '+%Y-%m-%d %H:%M UTC'), l2tpd $(VERSION) ($$(cat $(BENCH_RESULTS)/version) when the run began)"; \
	  echo "- host load average (1, 5, 15 min) before the run: $$(cat $(BENCH_RESULTS)/load-before); after it: $$(cut -d' ' -f1-3 /proc/loadavg) (the VM's own load included)"; \
	  awk -v row="| static binary size, stripped (bytes) | $$size | - | - | - | <= 65536 (64 KiB) | $$v |" \
		'{ print } /^\|---/ && !done { print row; done = 1 }' \
		$(BENCH_RESULTS)/bench/results.md; \
	} >bench/results.md
	$(Q)echo; cat bench/results.md
