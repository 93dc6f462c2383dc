# SPDX-License-Identifier: MIT
# l2tpd: a static, dependency-free tunneldigger client.
#
#   make            static l2tpd (musl-gcc when present, else the system cc)
#   make test       unit tests, then the kernel scenarios (in a VM if needed)
#   make demo       bring a tunnel up against the test broker and ping across
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
BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -DL2TPD_VERSION='"$(VERSION)"' $(WARN) -MMD -MP

ifeq ($(SAN),1)
  OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
  STATIC :=
  B := build/san
else
  OPT := -Os
  STATIC := -static
  B := build/rel
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
BT := $(B)/host

ifeq ($(V),1)
  Q :=
else
  Q := @
endif

CORE := proto.c genl.c client.c dns.c log.c cli.c
SRCS := $(CORE) l2tpd.c
OBJS := $(SRCS:%.c=$(B)/%.o)
HOST_CORE_OBJS := $(CORE:%.c=$(BT)/%.o)

UNIT_SRCS := $(wildcard test/unit/*.c)
UNIT_BIN := $(BT)/unit_tests

.PHONY: all clean test test-unit test-integration demo deps size strip check

all: l2tpd

l2tpd: $(OBJS)
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

$(BT)/broker: $(BT)/test/broker.o $(BT)/proto.o $(BT)/genl.o
	@echo "  LD      $@"
	$(Q)$(HOSTCC) $(HOST_LDFLAGS) -o $@ $^

broker: $(BT)/broker

strip: l2tpd
	strip -o l2tpd.stripped l2tpd

size: $(OBJS) strip
	@size $(OBJS)
	@ls -l l2tpd.stripped | awk '{print "l2tpd (stripped): " $$5 " bytes"}'

test-unit: $(UNIT_BIN)
	$(UNIT_BIN)

test-integration: l2tpd $(BT)/broker
	L2TPD=$(CURDIR)/l2tpd BROKER=$(CURDIR)/$(BT)/broker test/vm test/integration.sh

test: test-unit test-integration

demo: l2tpd $(BT)/broker
	L2TPD=$(CURDIR)/l2tpd BROKER=$(CURDIR)/$(BT)/broker test/vm test/demo.sh

deps:
	test/deps.sh

clean:
	rm -rf build l2tpd l2tpd.stripped

-include $(shell find build -name '*.d' 2>/dev/null)
