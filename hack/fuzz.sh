#!/usr/bin/env bash
# Run each libFuzzer target for SECONDS seconds on its seed corpus, in a
# scratch copy so the checked-in corpus only changes on purpose. First each
# input of tests/fuzz/regressions/<name>/ (crashes, leaks, timeouts and
# out-of-memory inputs a fuzzer once found, see hack/fuzz-campaign.sh) runs
# once: a bug that comes back fails here before any fuzzing.
# FUZZ_TIME_<name> (FUZZ_TIME_config for fuzz_config) gives one target
# longer. A run that grows past 2 GB of memory is a failure: a policy or an
# object file must never make the controller allocate that much.
# Usage: hack/fuzz.sh SECONDS build/fuzz/fuzz_x...
set -euo pipefail
cd "$(dirname "$0")/.."
secs=$1
shift
fail=0
for bin in "$@"; do
	name=$(basename "$bin")
	short=${name#fuzz_}
	seed=tests/fuzz/corpus/$short
	work=build/fuzz/corpus-work/$short
	mkdir -p "$work" "$seed"
	dict=()
	[ -f "tests/fuzz/$short.dict" ] && dict=(-dict="tests/fuzz/$short.dict")
	var=FUZZ_TIME_$short
	t=${!var:-$secs}
	regs=("tests/fuzz/regressions/$short"/*)
	if [ -f "${regs[0]}" ]; then
		echo "== $name: ${#regs[@]} regression input(s)"
		if ! "$bin" -rss_limit_mb=2048 -timeout=60 "${regs[@]}" >"build/fuzz/$name-regressions.log" 2>&1; then
			tail -n 40 "build/fuzz/$name-regressions.log"
			echo "fuzz: $name FAILED on a regression input (log: build/fuzz/$name-regressions.log)"
			fail=1
			continue
		fi
	fi
	echo "== $name for ${t}s"
	if ! "$bin" -max_total_time="$t" -print_final_stats=1 -max_len=65536 -rss_limit_mb=2048 \
		-artifact_prefix="build/fuzz/$name-" "${dict[@]}" "$work" "$seed" >"build/fuzz/$name.log" 2>&1; then
		tail -n 40 "build/fuzz/$name.log"
		echo "fuzz: $name FAILED (log: build/fuzz/$name.log)"
		fail=1
		continue
	fi
	execs=$(grep -E 'stat::number_of_executed_units' "build/fuzz/$name.log" | awk '{print $2}')
	cov=$(grep -E '^#[0-9]+.*cov:' "build/fuzz/$name.log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+).*/\1/')
	echo "fuzz: $name ok: ${execs:-?} executions, coverage ${cov:-?}"
done
exit $fail
