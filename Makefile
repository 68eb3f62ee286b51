# vigil — build, test, run.  `make` builds .output/vigil; `make test` runs
# every test; `make run` starts the agent on its embedded default rules.
# Those two, and the long test runs `make test-kernels` and `make stress`,
# install missing Debian build dependencies first (scripts/deps.sh); `make`,
# `make unit` and every other target assume they are there.
OUTPUT := .output
CLANG ?= $(shell command -v clang-19 || command -v clang)
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
CC ?= gcc
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VERSION := 0.1.0

CFLAGS ?= -O2 -g
# Unused parameters are callbacks' fixed signatures (corr_env, glob walks,
# epoll handlers, YAML field parsers, cmocka tests), not dead code: -Wall
# still catches unused functions, variables and values.
WARN := -Wall -Wextra -Werror -Wno-unused-parameter
USER_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DVIGIL_VERSION=\"$(VERSION)\" -Iinclude -Iuserspace -I$(OUTPUT) -MMD -MP
# everything but glibc and libcurl static: one file runs on every host (glibc
# floor: docs/KERNELS.md); libcurl (HTTP sinks) stays shared, its own TLS and
# protocol libraries have no static builds worth carrying; OpenSSL (syslog
# over TLS) is the one libcurl already loads, so shared too: one copy
LDLIBS := -l:libbpf.a -l:libjansson.a -l:libelf.a -l:libz.a -l:libyaml.a -lcurl -lssl -lcrypto -lpthread

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	-I$(OUTPUT) -Ibpf -Iinclude -MMD -MP
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

.PHONY: all deps run test test-kernels test-kernels-suite unit bpf-tests scenarios bench bench-classify bench-content stress clean install uninstall
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

# BPF unit tests (tests/bpf): test_X.c runs programs of X.bpf.c, the real
# object plus test entry points, with BPF_PROG_TEST_RUN.
BPFTEST_BINS := $(patsubst tests/bpf/%.c,$(OUTPUT)/bpftest/%,$(wildcard tests/bpf/test_*.c))

$(OUTPUT)/bpftest/%.bpf.o: tests/bpf/%.bpf.c $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(CLANG_BPF_SYS_INCLUDES) -MF $(OUTPUT)/bpftest/$*.bpf.d -MT $@ -c $< -o $@.tmp.o
	$(Q)$(BPFTOOL) gen object $@ $@.tmp.o && rm -f $@.tmp.o

$(OUTPUT)/bpftest/%.skel.h: $(OUTPUT)/bpftest/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(OUTPUT)/bpftest/test_%: tests/bpf/test_%.c $(OUTPUT)/bpftest/%.skel.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -I$(OUTPUT)/bpftest $< $(LDLIBS) -lcmocka -o $@

bpf-tests: $(BPFTEST_BINS)

# The content corpus the classifier tests judge (tests/lib/corpus.py).
$(OUTPUT)/corpus/manifest.tsv: tests/lib/corpus.py
	$(call msg,CORPUS,$(dir $@))
	$(Q)python3 tests/lib/corpus.py $(dir $@)

$(OUTPUT)/bpftest/test_classify: $(OUTPUT)/corpus/manifest.tsv
$(OUTPUT)/bpftest/test_classify: LDLIBS += -lm

# Attack scenarios that need C (io_uring has no Python binding on bookworm).
SCENARIO_BINS := $(OUTPUT)/scenarios/uring_leak
$(OUTPUT)/scenarios/%: tests/scenarios/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $< -luring -o $@

# The FUSE daemon that sends what is written into it (tests/bats/netfs.bats).
SCENARIO_BINS += $(OUTPUT)/scenarios/fuse_forward
$(OUTPUT)/scenarios/fuse_forward: tests/scenarios/fuse_forward.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $(shell pkg-config --cflags fuse3) $< \
		$(shell pkg-config --libs fuse3) -o $@

# The Go TLS client (tests/bats/tls.bats: crypto/tls uprobes), with its
# symbols and stripped (stripped Go is what the uprobes cannot see).
SCENARIO_BINS += $(OUTPUT)/scenarios/tls_post_go $(OUTPUT)/scenarios/tls_post_go_stripped
$(OUTPUT)/scenarios/tls_post_go: tests/scenarios/tls_post_go.go
	$(call msg,GO,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)GOCACHE=$(abspath $(OUTPUT))/gocache GOFLAGS= GO111MODULE=off go build -o $@ $<
$(OUTPUT)/scenarios/tls_post_go_stripped: tests/scenarios/tls_post_go.go
	$(call msg,GO,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)GOCACHE=$(abspath $(OUTPUT))/gocache GOFLAGS= GO111MODULE=off go build -ldflags=-s -o $@ $<

# The stress harness's sender and receiver (tests/stress, `make stress`).
STRESS_BINS := $(OUTPUT)/stress/leaker $(OUTPUT)/stress/sink
$(OUTPUT)/stress/%: tests/stress/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -D_GNU_SOURCE $< -luring -o $@

scenarios: $(SCENARIO_BINS) $(STRESS_BINS)

# libFuzzer targets, one per parser of untrusted input: rule conditions
# (expr), whole rule files (rules), captures (capture), /proc text (proc),
# ring-buffer records (records). Built by clang from source with ASan and
# UBSan (not from the gcc objects). `make fuzz-smoke` runs each briefly
# (FUZZ_SECONDS, default 15; make test uses 10), `make fuzz` for 10 minutes
# each (FUZZ_SECONDS, default 600). New inputs go to .output/fuzz/corpus-T;
# the checked-in seeds (tests/fuzz/corpus/T) stay as they are.
FUZZ_CC ?= clang-19
FUZZ_CFLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1 \
	-std=gnu11 -D_GNU_SOURCE -DVIGIL_VERSION=\"$(VERSION)\" $(WARN) -Iinclude -Iuserspace \
	-I$(OUTPUT)
FUZZ_TARGETS := expr rules capture proc records
FUZZ_expr_SRCS := userspace/expr.c userspace/addr.c userspace/glob.c
FUZZ_rules_SRCS := userspace/rules.c userspace/rules_load.c userspace/rules_yaml.c \
	userspace/rules_logic.c userspace/engine.c userspace/activity.c userspace/expr.c \
	userspace/addr.c userspace/glob.c userspace/safefile.c
FUZZ_rules_LIBS := -lyaml
# the alert output: records, sinks (threads), formats, incidents
ALERT_SRCS := userspace/output.c userspace/record.c userspace/sha256.c userspace/sink.c \
	userspace/sink_file.c userspace/sink_unix.c userspace/sink_syslog.c userspace/sink_http.c \
	userspace/sink_tls.c userspace/sink_http_body.c userspace/strbuf.c userspace/format.c \
	userspace/format_ecs.c userspace/format_ocsf.c userspace/format_cef.c userspace/incident.c
FUZZ_capture_SRCS := userspace/capture.c userspace/report.c userspace/json.c \
	userspace/activity.c userspace/safefile.c userspace/log.c userspace/addr.c $(ALERT_SRCS) \
	userspace/context.c
FUZZ_capture_LIBS := -l:libjansson.a -lz -lcurl -lssl -lcrypto -lpthread
FUZZ_proc_SRCS := userspace/proc.c userspace/context.c
FUZZ_records_SRCS := userspace/correlate.c userspace/derived.c userspace/mounts.c $(FUZZ_capture_SRCS)
FUZZ_records_LIBS := $(FUZZ_capture_LIBS)
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-smoke

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(OUTPUT)/default_rules.h \
		$(wildcard userspace/*.c userspace/*.h)
	$(call msg,FUZZ,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $< $(FUZZ_$*_SRCS) $(FUZZ_$*_LIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# fuzz_run SECONDS: every target in turn; -timeout=5 makes a hang a failure
define fuzz_run
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(OUTPUT)/fuzz/corpus-$$t && \
		$(OUTPUT)/fuzz/fuzz_$$t -max_total_time=$(1) -timeout=5 -rss_limit_mb=1024 \
			-artifact_prefix=$(OUTPUT)/fuzz/$$t- $(OUTPUT)/fuzz/corpus-$$t \
			tests/fuzz/corpus/$$t || exit 1; \
	done
endef

fuzz-smoke: fuzz-build
	$(call fuzz_run,$(or $(FUZZ_SECONDS),15))

fuzz: fuzz-build
	$(call fuzz_run,$(or $(FUZZ_SECONDS),600))

run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(OUTPUT)/vigil run

test: deps
	$(Q)scripts/deps.sh --kernels
	$(Q)$(MAKE) --no-print-directory all unit bpf-tests scenarios
	tests/run-tests.sh

# the kernel matrix (tests/kernels/matrix): Debian kernels booted in qemu,
# the end-to-end suites run inside; KERNELS="6.1.0-57 host" picks legs
test-kernels: deps
	$(Q)scripts/deps.sh --kernels
	$(Q)$(MAKE) --no-print-directory all scenarios
	tests/kernels/run.sh $(KERNELS)

# the whole end-to-end suite on one kernel, a guest per bats file, the
# matrix per file at the end (hours under TCG: not in `make test`);
# SUITE_KERNEL=6.1.0-57, SUITE_FILES="propagate tls" picks files
test-kernels-suite: deps
	$(Q)scripts/deps.sh --kernels
	$(Q)$(MAKE) --no-print-directory all scenarios
	tests/kernels/suite.sh $(or $(SUITE_KERNEL),6.1.0-57) $(SUITE_FILES)

bench: all
	bench/run.sh

# ns per packet of the content classifier (BPF_PROG_TEST_RUN repeat)
bench-classify: bpf-tests
	$(OUTPUT)/bpftest/test_classify --bench

# the classifier's A/B on the real tainted egress path (bench/content_ab.sh)
bench-content: all
	bench/content_ab.sh

# `make install` (PREFIX, DESTDIR): the binary, the unit, the settings file
# and the site rule directory. An existing vigil.yaml is never overwritten
# (an upgrade keeps the operator's settings); docs/OPERATIONS.md.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/vigil
CONFDIR := $(SYSCONFDIR)/vigil

install: all
	$(call msg,INSTALL,$(DESTDIR)$(BINDIR)/vigil)
	$(Q)install -D -m 0755 $(OUTPUT)/vigil $(DESTDIR)$(BINDIR)/vigil
	$(Q)install -d -m 0700 $(DESTDIR)$(CONFDIR) $(DESTDIR)$(CONFDIR)/rules.d
	$(Q)if [ ! -e $(DESTDIR)$(CONFDIR)/vigil.yaml ]; then \
		sed 's|/etc/vigil|$(CONFDIR)|g' packaging/vigil.yaml > $(OUTPUT)/vigil.yaml && \
		install -m 0600 $(OUTPUT)/vigil.yaml $(DESTDIR)$(CONFDIR)/vigil.yaml; \
	else echo "  keeping $(DESTDIR)$(CONFDIR)/vigil.yaml"; fi
	$(Q)sed -e 's|/usr/local/bin|$(BINDIR)|g' -e 's|/etc/vigil|$(CONFDIR)|g' \
		-e 's|/usr/local/share/doc/vigil|$(DOCDIR)|g' packaging/vigil.service > $(OUTPUT)/vigil.service
	$(Q)install -D -m 0644 $(OUTPUT)/vigil.service $(DESTDIR)$(UNITDIR)/vigil.service
	$(Q)install -d -m 0755 $(DESTDIR)$(DOCDIR)
	$(Q)install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

# Leaves $(CONFDIR) (settings, site rules) and any pinned state in place.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/vigil $(DESTDIR)$(UNITDIR)/vigil.service
	rm -rf $(DESTDIR)$(DOCDIR)

# The budget ceiling under CPU load and memory pressure: every transport
# STRESS_REPS times (default 200). Figures: docs/PERFORMANCE.md.
STRESS_REPS ?= 200
stress: deps
	$(Q)$(MAKE) --no-print-directory all scenarios
	tests/stress/stress.py --reps $(STRESS_REPS) $(STRESS_ARGS)

clean:
	rm -rf $(OUTPUT)

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/obj/*.d $(OUTPUT)/unit/*.d $(OUTPUT)/bpftest/*.d)
