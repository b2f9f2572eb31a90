# csr-approver build. `make help` lists the targets.

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

CC ?= cc
CLANG ?= clang
PKGS := libcurl jansson yaml-0.1 libssl libcrypto libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Werror
CPPFLAGS += -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
	-DCSR_APPROVER_VERSION='"$(VERSION)"' -DCSR_APPROVER_COMMIT='"$(COMMIT)"'
CFLAGS ?= -O2 -g
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=c11 $(WARN) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDFLAGS_REL := -pie -Wl,-z,relro,-z,now
# Tests use Criterion's macros, which trip -Wmissing-prototypes.
TEST_CFLAGS = -std=gnu11 -Wall -Wextra -Wshadow -Wformat=2 -Werror $(PKG_CFLAGS) $(CFLAGS) -MMD -MP

B := build
PKG_SRCS := $(sort $(wildcard pkg/*/*.c))
PKG_OBJS := $(PKG_SRCS:%.c=$(B)/obj/%.o)
LIB := $(B)/libcsrapprover.a
BIN := $(B)/csr-approver
# The same binary with the fault-making flags the integration suites use
# (pkg/controller/options.c under CSR_APPROVER_TEST_HOOKS); never shipped.
TEST_BIN := $(B)/csr-approver-test
HOOKS_SRCS := pkg/controller/options.c
UNIT_SRCS := $(sort $(wildcard tests/unit/*/*.c))
UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/obj/%.o)
UNIT_BIN := $(B)/unit-tests

# Sanitizer build of the same sources (make asan).
ASAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g
ASAN_PKG_OBJS := $(PKG_SRCS:%.c=$(B)/asan/%.o)
ASAN_UNIT_OBJS := $(UNIT_SRCS:%.c=$(B)/asan/%.o)
ASAN_UNIT_BIN := $(B)/asan/unit-tests
ASAN_BIN := $(B)/asan/csr-approver
ASAN_TEST_BIN := $(B)/asan/csr-approver-test

# libFuzzer targets: one per parser of untrusted input.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
FUZZ_PKG_OBJS := $(PKG_SRCS:%.c=$(B)/fuzz/obj/%.o)
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer -O1 -g -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_TIME ?= 60
# The same targets without ASan, optimised: 1.5 to 2 times the executions per
# second, for long campaigns whose grown corpus is then replayed through the
# ASan+UBSan build above (hack/fuzz-campaign.sh, FUZZ_CAMPAIGN_BUILD=fast).
FUZZ_FAST_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(B)/fuzz-fast/%)
FUZZ_FAST_PKG_OBJS := $(PKG_SRCS:%.c=$(B)/fuzz-fast/obj/%.o)
FUZZ_FAST_FLAGS := -fsanitize=fuzzer-no-link,undefined -fno-sanitize-recover=undefined -O2 -g \
	-DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
FUZZ_CAMPAIGN_BUILD ?= asan

LINT_SRCS = $(shell git ls-files 'cmd/*.c' 'pkg/*.c' 'pkg/*.h' 'tests/*.c' 'tests/*.h' 2>/dev/null)

.PHONY: all test unit integration print-libs asan asan-integration fuzz fuzz-build fuzz-build-fast fuzz-campaign \
	lint fmt clean help \
	cluster-up cluster-down demo bench bench-pcr bench-compare bench-api-writes soak fixtures deps manifests dist promtool \
	e2e image print-version

all: $(BIN) $(TEST_BIN)

help:
	@echo "make            build $(BIN)"
	@echo "make test       unit tests, then integration tests against the local control plane"
	@echo "make unit       Criterion unit tests"
	@echo "make asan       unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
	@echo "make fuzz       every libFuzzer target for FUZZ_TIME seconds (default 60), after replaying"
	@echo "                tests/fuzz/regressions"
	@echo "make fuzz-campaign  long fuzzing that grows and minimises tests/fuzz/corpus: FUZZ_CAMPAIGN_TIME"
	@echo "                (s per target), FUZZ_CAMPAIGN_RUNS, FUZZ_CAMPAIGN_TARGETS, FUZZ_CAMPAIGN_JOBS,"
	@echo "                FUZZ_CAMPAIGN_BUILD=asan|fast (hack/fuzz-campaign.sh)"
	@echo "make lint       clang-format check, cppcheck, banned functions"
	@echo "make fmt        apply clang-format"
	@echo "make fixtures   regenerate tests/testdata"
	@echo "make cluster-up / cluster-down   the local control plane (hack/cluster.sh)"
	@echo "make demo       the controller deciding CSRs on the local control plane"
	@echo "make bench      CPU per offline decision, memory with a large cluster cached"
	@echo "make bench-compare   side by side with kubelet-csr-approver and a no-check floor"
	@echo "                on the local control plane (about 25 minutes; BENCH_QUICK=1: 2-3)"
	@echo "make bench-api-writes   kube-apiserver CPU per Event and per approval, each shape"
	@echo "                csr-approver sends against the one it replaced (about 2 minutes)"
	@echo "make manifests  render deploy/ from the Helm chart"
	@echo "make dist       a tarball with the binary and its runtime package list"
	@echo "make image      the container image, no daemon: build/image/layout (OCI) and a docker-archive"
	@echo "make e2e        chart, RBAC and metrics-format suites"
	@echo "make soak       two leader-elected controllers, SOAK_RATE CSRs/s (100) for SOAK_SECONDS (600): decided once and right, no leak"

deps:
	hack/deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -Itests -c -o $@ $<

$(LIB): $(PKG_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	ar rcs $@ $^

$(BIN): $(B)/obj/cmd/csr-approver/main.o $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(B)/hooks/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DCSR_APPROVER_TEST_HOOKS $(ALL_CFLAGS) -c -o $@ $<

# The hooks object comes first: the archive's own copy is then not linked.
$(TEST_BIN): $(B)/obj/cmd/csr-approver/main.o $(HOOKS_SRCS:%.c=$(B)/hooks/%.o) $(LIB)
	$(CC) $(CFLAGS) $(LDFLAGS_REL) -o $@ $^ $(PKG_LIBS) $(LDFLAGS)

$(UNIT_BIN): $(UNIT_OBJS) $(LIB)
	$(CC) $(CFLAGS) -o $@ $^ -lcriterion $(PKG_LIBS) $(LDFLAGS)

# The libraries a program linked against build/libcsrapprover.a needs
# (tests/integration/watch.sh links its driver with them).
print-libs:
	@echo $(PKG_LIBS)

unit: $(UNIT_BIN) $(BIN)
	CSR_APPROVER_BIN=$(abspath $(BIN)) $(UNIT_BIN) --jobs 2

integration: $(BIN) $(TEST_BIN)
	CSR_APPROVER_SKIP_UNIT=1 hack/test.sh

# The integration and e2e suites with the controller built under ASan+UBSan.
asan-integration: $(ASAN_BIN) $(ASAN_TEST_BIN)
	CSR_APPROVER_SKIP_UNIT=1 CSR_APPROVER_BIN=$(abspath $(ASAN_BIN)) \
	CSR_APPROVER_TEST_BIN=$(abspath $(ASAN_TEST_BIN)) \
	ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	hack/test.sh

test: $(BIN) $(TEST_BIN) $(UNIT_BIN)
	hack/test.sh

# ---- sanitizers ----
$(B)/asan/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 $(WARN) $(PKG_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

$(B)/asan/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror $(PKG_CFLAGS) $(ASAN_FLAGS) -Itests -MMD -MP -c -o $@ $<

$(B)/asan/libcsrapprover.a: $(ASAN_PKG_OBJS)
	rm -f $@
	ar rcs $@ $^

$(ASAN_UNIT_BIN): $(ASAN_UNIT_OBJS) $(B)/asan/libcsrapprover.a
	$(CLANG) $(ASAN_FLAGS) -o $@ $^ -lcriterion $(PKG_LIBS)

$(ASAN_BIN): $(B)/asan/cmd/csr-approver/main.o $(B)/asan/libcsrapprover.a
	$(CLANG) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/asan/hooks/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -DCSR_APPROVER_TEST_HOOKS -std=c11 $(WARN) $(PKG_CFLAGS) $(ASAN_FLAGS) -MMD -MP -c -o $@ $<

$(ASAN_TEST_BIN): $(B)/asan/cmd/csr-approver/main.o $(HOOKS_SRCS:%.c=$(B)/asan/hooks/%.o) \
		$(B)/asan/libcsrapprover.a
	$(CLANG) $(ASAN_FLAGS) -o $@ $^ $(PKG_LIBS)

asan: $(ASAN_UNIT_BIN) $(ASAN_BIN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:halt_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	CSR_APPROVER_BIN=$(abspath $(ASAN_BIN)) $(ASAN_UNIT_BIN) --jobs 2

# ---- fuzzing ----
$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 $(WARN) $(PKG_CFLAGS) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(B)/fuzz/%: tests/fuzz/%.c $(FUZZ_PKG_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 -Wall -Wextra -Werror $(PKG_CFLAGS) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer -O1 -g \
		-o $@ $< $(FUZZ_PKG_OBJS) $(PKG_LIBS)

$(B)/fuzz-fast/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 $(WARN) $(PKG_CFLAGS) $(FUZZ_FAST_FLAGS) -MMD -MP -c -o $@ $<

$(B)/fuzz-fast/%: tests/fuzz/%.c $(FUZZ_FAST_PKG_OBJS)
	@mkdir -p $(@D)
	$(CLANG) $(CPPFLAGS) -std=c11 -Wall -Wextra -Werror $(PKG_CFLAGS) \
		-fsanitize=fuzzer,undefined -fno-sanitize-recover=undefined -O2 -g \
		-o $@ $< $(FUZZ_FAST_PKG_OBJS) $(PKG_LIBS)

.SECONDARY: $(FUZZ_PKG_OBJS) $(FUZZ_FAST_PKG_OBJS)

fuzz-build: $(FUZZ_BINS)

fuzz-build-fast: $(FUZZ_FAST_BINS)

fuzz: $(FUZZ_BINS)
	hack/fuzz.sh $(FUZZ_TIME) $(FUZZ_BINS)

# The ASan+UBSan build always: it replays the grown corpus when the campaign
# ran on the fast one.
fuzz-campaign: $(FUZZ_BINS) $(if $(filter fast,$(FUZZ_CAMPAIGN_BUILD)),$(FUZZ_FAST_BINS))
	FUZZ_CAMPAIGN_BUILD=$(FUZZ_CAMPAIGN_BUILD) hack/fuzz-campaign.sh

# ---- style ----
lint:
	hack/lint.sh

fmt:
	clang-format -i $(LINT_SRCS)

fixtures:
	tests/testdata/generate.sh

# ---- local control plane ----
cluster-up:
	hack/cluster.sh up

cluster-down:
	hack/cluster.sh down

# ---- demo and benchmarks (figures printed, never asserted) ----
demo:
	hack/demo.sh

$(B)/bench_decide: tests/bench/bench_decide.c tests/bench/bench.h $(LIB)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(B)/bench_issue: tests/bench/bench_issue.c tests/bench/bench.h $(LIB)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

$(B)/bench_event_body: tests/bench/bench_event_body.c $(LIB)
	$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -o $@ $< $(LIB) $(PKG_LIBS)

bench: $(BIN)
	hack/bench-check.sh
	hack/bench-rss.sh

# PodCertificateRequests with 50 hollow kubelets and 500 pods (BENCH_NODES,
# BENCH_PODS): not in `make bench`, it takes 2-3 minutes (node start, pod
# creation and cleanup).
bench-pcr: $(BIN)
	hack/bench-pcr.sh

# csr-approver, kubelet-csr-approver and a no-check floor side by side on
# the local control plane: bursts, a steady rate, a second client, memory,
# connections, start-up (docs/benchmarks.md). Not in `make bench`: about
# 25 minutes (BENCH_QUICK=1: 2-3). Prints a table, writes
# build/bench-compare.md. CSR_APPROVER_BIN, PEER_BIN, BENCH_SIZES,
# BENCH_REPS ...: see hack/bench-compare.sh.
bench-compare: $(BIN)
	hack/bench-compare.sh

# kube-apiserver's CPU per write of each shape csr-approver sends, against
# the shape it replaced, in one run: the Event in protobuf and in JSON, the
# approval without and with managedFields (hack/bench-api-writes.sh). About
# 2 minutes.
bench-api-writes: $(B)/bench_event_body
	hack/bench-api-writes.sh

# Two replicas with leader election, SOAK_RATE CSRs/s for SOAK_SECONDS
# against the local control plane (tests/soak/run.sh; docs/testing.md).
# `make test` runs the same suite for 60 s at 40/s.
SOAK_SECONDS ?= 600
SOAK_RATE ?= 100
soak: $(BIN)
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_RATE=$(SOAK_RATE) bash tests/soak/run.sh

# ---- packaging ----
manifests:
	hack/manifests.sh

dist: $(BIN)
	VERSION=$(VERSION) hack/dist.sh $(BIN)

# No daemon, no base image: the binary and the libraries it loads (hack/image.sh).
image: $(BIN)
	VERSION=$(VERSION) hack/image.sh $(BIN)

print-version:
	@echo $(VERSION)

promtool:
	hack/build-promtool.sh

e2e: $(BIN) $(TEST_BIN) $(UNIT_BIN)
	@for s in tests/e2e/*.sh; do case $$s in */lib.sh) continue;; esac; echo "-- $$s"; bash $$s || exit 1; done

clean:
	rm -rf $(B)

-include $(PKG_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(ASAN_PKG_OBJS:.o=.d) $(ASAN_UNIT_OBJS:.o=.d) \
	$(FUZZ_PKG_OBJS:.o=.d) $(FUZZ_FAST_PKG_OBJS:.o=.d) $(B)/obj/cmd/csr-approver/main.d \
	$(B)/asan/cmd/csr-approver/main.d \
	$(HOOKS_SRCS:%.c=$(B)/hooks/%.d) $(HOOKS_SRCS:%.c=$(B)/asan/hooks/%.d)
