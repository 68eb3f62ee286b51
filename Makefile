# vigil — build, test, run.  `make` builds .output/vigil; `make test` runs
# every test; `make run` starts the agent on its embedded default rules.
# Those two (and only those) install missing Debian build dependencies first
# (scripts/deps.sh); every other target assumes they are there.
OUTPUT := .output
CLANG ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CC ?= gcc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VERSION := 0.1.0

CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
USER_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DVIGIL_VERSION=\"$(VERSION)\" -Iinclude -Iuserspace -I$(OUTPUT) -MMD -MP
LDLIBS := -l:libbpf.a -l:libjansson.a -lelf -lz -lyaml

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-Wno-unused-function -I$(OUTPUT) -Ibpf -Iinclude -MMD -MP
# clang's own system headers must not shadow the BPF ones (bootstrap does the same)
CLANG_BPF_SYS_INCLUDES := $(shell $(CLANG) -v -E - </dev/null 2>&1 \
	| sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

USER_SRCS := $(wildcard userspace/*.c)
USER_OBJS := $(patsubst userspace/%.c,$(OUTPUT)/obj/%.o,$(USER_SRCS))
LIB_OBJS := $(filter-out $(OUTPUT)/obj/main.o,$(USER_OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/unit/%,$(UNIT_SRCS))
RULE_FILES := $(sort $(wildcard rules/*.yaml))

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.PHONY: all deps run test unit scenarios bench stress clean
.DELETE_ON_ERROR:
.SECONDARY:

all: $(OUTPUT)/vigil

deps:
	$(Q)scripts/deps.sh

$(OUTPUT) $(OUTPUT)/obj $(OUTPUT)/unit:
	$(Q)mkdir -p $@

$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

$(OUTPUT)/vigil.bpf.o: bpf/vigil.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(CLANG_BPF_SYS_INCLUDES) -MF $(OUTPUT)/vigil.bpf.d -MT $@ -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/vigil.skel.h: $(OUTPUT)/vigil.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name vigil_bpf > $@

# The default rule pack is embedded in the binary.
$(OUTPUT)/default_rules.h: $(RULE_FILES) scripts/embed.sh | $(OUTPUT)
	$(call msg,EMBED,$@)
	$(Q)scripts/embed.sh $@ $(RULE_FILES)

$(OUTPUT)/obj/%.o: userspace/%.c | $(OUTPUT)/obj
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

# Only the objects that include a generated header wait for it (and are
# rebuilt when it changes); -MMD tracks every other header.
SKEL_USERS := $(patsubst userspace/%.c,$(OUTPUT)/obj/%.o,\
	$(shell grep -l '"vigil.skel.h"' $(USER_SRCS)))
RULES_USERS := $(patsubst userspace/%.c,$(OUTPUT)/obj/%.o,\
	$(shell grep -l '"default_rules.h"' $(USER_SRCS)))
$(SKEL_USERS): $(OUTPUT)/vigil.skel.h
$(RULES_USERS): $(OUTPUT)/default_rules.h

$(OUTPUT)/vigil: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(USER_CFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/unit
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) $< $(LIB_OBJS) $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BINS)

# Attack scenarios that need C (io_uring has no Python binding on bookworm).
SCENARIO_BINS := $(OUTPUT)/scenarios/uring_leak
$(OUTPUT)/scenarios/%: tests/scenarios/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $< -luring -o $@

# The stress harness's sender and receiver (tests/stress, `make stress`).
STRESS_BINS := $(OUTPUT)/stress/leaker $(OUTPUT)/stress/sink
$(OUTPUT)/stress/%: tests/stress/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $< -luring -o $@

scenarios: $(SCENARIO_BINS) $(STRESS_BINS)

# libFuzzer target for rule conditions: built by clang from source with
# sanitizers (not from the gcc objects). fuzz-smoke runs it for 20 s; new
# inputs go to .output/fuzz/corpus, the checked-in seeds stay as they are.
FUZZ_CC ?= clang-19
FUZZ_CFLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
	-std=gnu11 -D_GNU_SOURCE $(WARN) -Iinclude -Iuserspace -I$(OUTPUT)
FUZZ_EXPR_SRCS := tests/fuzz/fuzz_expr.c userspace/expr.c userspace/addr.c userspace/glob.c
FUZZ_RULES_SRCS := tests/fuzz/fuzz_rules.c userspace/rules.c userspace/engine.c \
	userspace/activity.c userspace/expr.c userspace/addr.c userspace/glob.c
FUZZ_SECONDS ?= 15

.PHONY: fuzz fuzz-smoke

$(OUTPUT)/fuzz/fuzz_expr: $(FUZZ_EXPR_SRCS) userspace/expr.h userspace/addr.h userspace/glob.h
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_EXPR_SRCS) -o $@

# the whole rule-file path: libyaml, sections, merging, compile, validate, eval
$(OUTPUT)/fuzz/fuzz_rules: $(FUZZ_RULES_SRCS) $(OUTPUT)/default_rules.h $(wildcard userspace/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_RULES_SRCS) -lyaml -o $@

fuzz: $(OUTPUT)/fuzz/fuzz_expr $(OUTPUT)/fuzz/fuzz_rules

fuzz-smoke: fuzz
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus $(OUTPUT)/fuzz/corpus-rules
	$(OUTPUT)/fuzz/fuzz_expr -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus tests/fuzz/corpus/expr
	$(OUTPUT)/fuzz/fuzz_rules -max_total_time=$(FUZZ_SECONDS) -timeout=5 -rss_limit_mb=1024 \
		-artifact_prefix=$(OUTPUT)/fuzz/ $(OUTPUT)/fuzz/corpus-rules tests/fuzz/corpus/rules

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUTPUT)/vigil run

test: deps
	$(Q)$(MAKE) --no-print-directory all unit scenarios
	tests/run-tests.sh

bench: all
	bench/run.sh

# The budget ceiling under CPU load and memory pressure: every transport
# STRESS_REPS times (default 200). Figures: docs/PERFORMANCE.md.
STRESS_REPS ?= 200
stress: deps
	$(Q)$(MAKE) --no-print-directory all scenarios
	tests/stress/stress.py --reps $(STRESS_REPS) $(STRESS_ARGS)

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/obj/*.d $(OUTPUT)/unit/*.d)
