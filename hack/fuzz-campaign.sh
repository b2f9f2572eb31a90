#!/usr/bin/env bash
# make fuzz-campaign: a long run of each libFuzzer target that grows the
# corpus kept in tests/fuzz/corpus/<target>, then minimises it, and keeps any
# crash as a regression input in tests/fuzz/regressions/<target>/ (which
# `make fuzz` replays before fuzzing).
#
# Per target:
#  1. fuzz for FUZZ_CAMPAIGN_TIME seconds and/or FUZZ_CAMPAIGN_RUNS
#     executions (whichever comes first; FUZZ_CAMPAIGN_TIME_<target> and
#     FUZZ_CAMPAIGN_RUNS_<target> override them for one target), new inputs
#     going to a work folder under build/, seeded with the corpus and the
#     regression inputs;
#  2. minimise: `-merge=1` into a fresh folder that already holds the named
#     seeds of the corpus (every file whose name is not a libFuzzer SHA-1:
#     they are written by hand, and tests and docs refer to some of them), so
#     that only the inputs adding coverage to them are kept;
#  3. replay every input of the old corpus and of the work folder through
#     the ASan+UBSan build (build/fuzz), one process per batch, leaks
#     checked: when the campaign ran on the fast build (no ASan, -O2:
#     FUZZ_CAMPAIGN_BUILD=fast) that is where memory errors and leaks are
#     found; on the ASan build it costs little and checks leaks once more;
#  4. replace tests/fuzz/corpus/<target> with the fresh folder, and record
#     the figures in build/fuzz-campaign/<target>/result.
# A target with a result is skipped when the campaign runs again, so an
# interrupted campaign resumes at the target it was on
# (FUZZ_CAMPAIGN_FRESH=1 starts over). A crash, leak, timeout or
# out-of-memory stops that target's fuzzing: its input is copied to
# tests/fuzz/regressions/<target>/ and the campaign goes on with the next
# target, then exits 1.
#
# Settings (environment):
#  FUZZ_CAMPAIGN_TIME     seconds per target (default 600 when no RUNS either)
#  FUZZ_CAMPAIGN_RUNS     executions per target
#  FUZZ_CAMPAIGN_TARGETS  names without fuzz_, separated by spaces or commas
#                         (default: every tests/fuzz/fuzz_*.c)
#  FUZZ_CAMPAIGN_JOBS     libFuzzer processes per target (-fork=N when > 1)
#  FUZZ_CAMPAIGN_BUILD    asan (build/fuzz, default) or fast (build/fuzz-fast)
#  FUZZ_CAMPAIGN_TIMEOUT  seconds one input may take (default 30)
#  FUZZ_CAMPAIGN_MAXLEN   the longest input, bytes (default 65536;
#                         FUZZ_CAMPAIGN_MAXLEN_<target> for one target: a
#                         smaller one keeps the corpus of report, whose
#                         inputs are whole lists of CSRs, small enough to
#                         keep in the repository)
#  FUZZ_CAMPAIGN_STATE    state folder (default build/fuzz-campaign)
# Run it at low priority on a shared machine: nice -n 19 make fuzz-campaign.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_CAMPAIGN_BUILD:-asan}
case $build in
asan) bindir=build/fuzz ;;
fast) bindir=build/fuzz-fast ;;
*)
	echo "fuzz-campaign: FUZZ_CAMPAIGN_BUILD must be asan or fast, not '$build'" >&2
	exit 2
	;;
esac
asandir=build/fuzz
state=${FUZZ_CAMPAIGN_STATE:-build/fuzz-campaign}
jobs=${FUZZ_CAMPAIGN_JOBS:-1}
timeout=${FUZZ_CAMPAIGN_TIMEOUT:-30}
def_runs=${FUZZ_CAMPAIGN_RUNS:-}
def_time=${FUZZ_CAMPAIGN_TIME:-}
[ -z "$def_runs" ] && [ -z "$def_time" ] && def_time=600
for v in "$jobs" "$timeout" ${def_runs:+"$def_runs"} ${def_time:+"$def_time"}; do
	if ! [[ $v =~ ^[0-9]+$ ]]; then
		echo "fuzz-campaign: '$v' is not a whole number (FUZZ_CAMPAIGN_TIME, _RUNS, _JOBS, _TIMEOUT)" >&2
		exit 2
	fi
done

targets=()
if [ -n "${FUZZ_CAMPAIGN_TARGETS:-}" ]; then
	read -r -a targets <<<"${FUZZ_CAMPAIGN_TARGETS//,/ }"
else
	for src in tests/fuzz/fuzz_*.c; do
		s=$(basename "$src" .c)
		targets+=("${s#fuzz_}")
	done
fi
for t in "${targets[@]}"; do
	if [ ! -f "tests/fuzz/fuzz_$t.c" ]; then
		echo "fuzz-campaign: no target '$t' (tests/fuzz/fuzz_$t.c)" >&2
		exit 2
	fi
	for b in "$bindir" "$asandir"; do
		if [ ! -x "$b/fuzz_$t" ]; then
			echo "fuzz-campaign: $b/fuzz_$t is not built (make fuzz-build, or fuzz-build-fast)" >&2
			exit 2
		fi
	done
done

# files and bytes of a folder's regular files: "N B"
dir_size() {
	local n=0 b=0 f
	if [ -d "$1" ]; then
		for f in "$1"/*; do
			[ -f "$f" ] || continue
			n=$((n + 1))
			b=$((b + $(stat -c %s "$f")))
		done
	fi
	echo "$n $b"
}

is_generated() {
	[[ $(basename "$1") =~ ^[0-9a-f]{40}$ ]]
}

# Copy a finding into the regressions: named by kind and content, so that
# the same input found twice is kept once (KIND_SHA1: .gitignore ignores
# libFuzzer's own crash-* names).
keep_regression() {
	local t=$1 f=$2 kind=$3 sum
	sum=$(sha1sum "$f" | cut -c1-40)
	mkdir -p "tests/fuzz/regressions/$t"
	cp "$f" "tests/fuzz/regressions/$t/${kind}_$sum"
	echo "fuzz-campaign: $t: $kind input kept as tests/fuzz/regressions/$t/${kind}_$sum"
}

# Run the ASan+UBSan build on every file given, in batches of 400 per
# process. When a batch fails, each of its files runs alone, so that the
# failing ones are known (a leak is reported at exit, after the last file)
# and kept as regressions. Prints the number of inputs run; returns 1 when
# one failed.
replay() {
	local t=$1 log=$2
	shift 2
	local bin=$asandir/fuzz_$t rc=0 n=0 batch=() f g
	: >"$log"
	for f in "$@" ""; do
		if [ -n "$f" ]; then
			batch+=("$f")
			[ ${#batch[@]} -lt 400 ] && continue
		fi
		[ ${#batch[@]} -eq 0 ] && break
		n=$((n + ${#batch[@]}))
		if ! "$bin" -rss_limit_mb=2048 -timeout="$timeout" "${batch[@]}" >>"$log" 2>&1; then
			for g in "${batch[@]}"; do
				if ! "$bin" -rss_limit_mb=2048 -timeout="$timeout" "$g" >"$log.one" 2>&1; then
					grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log.one" | head -n 3 >&2 || true
					keep_regression "$t" "$g" replay >&2
					rc=1
				fi
			done
			rm -f "$log.one"
		fi
		batch=()
	done
	echo "$n"
	return $rc
}

failed=0
for t in "${targets[@]}"; do
	dir=$state/$t
	if [ -f "$dir/result" ] && [ "${FUZZ_CAMPAIGN_FRESH:-0}" != 1 ]; then
		echo "== $t: done in an earlier run ($dir/result), skipped"
		continue
	fi
	mkdir -p "$dir/grow" "$dir/artifacts"
	rm -f "$dir/result"
	bin=$bindir/fuzz_$t
	corpus=tests/fuzz/corpus/$t
	regs=tests/fuzz/regressions/$t
	mkdir -p "$corpus"
	read -r before_n before_b < <(dir_size "$corpus")
	tvar=FUZZ_CAMPAIGN_TIME_$t
	rvar=FUZZ_CAMPAIGN_RUNS_$t
	mvar=FUZZ_CAMPAIGN_MAXLEN_$t
	maxlen=${!mvar:-${FUZZ_CAMPAIGN_MAXLEN:-65536}}
	secs=${!tvar:-$def_time}
	runs=${!rvar:-$def_runs}
	limits=()
	[ -n "$secs" ] && limits+=(-max_total_time="$secs")
	[ -n "$runs" ] && limits+=(-runs="$runs")
	[ "$jobs" -gt 1 ] && limits+=(-fork="$jobs")
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	seeds=("$corpus")
	[ -d "$regs" ] && seeds+=("$regs")
	echo "== $t: $build build, at most ${secs:-unlimited} s and ${runs:-unlimited} executions, $jobs job(s)"

	# 1. fuzz (skipped when an interrupted run of this target got past it)
	crash=0
	if [ ! -f "$dir/fuzzed" ]; then
		start=$(date +%s)
		if ! "$bin" "${limits[@]}" -print_final_stats=1 -max_len="$maxlen" -rss_limit_mb=2048 \
			-timeout="$timeout" -artifact_prefix="$dir/artifacts/" "${dict[@]}" \
			"$dir/grow" "${seeds[@]}" >"$dir/fuzz.log" 2>&1; then
			crash=1
		fi
		echo "$(($(date +%s) - start)) $crash" >"$dir/fuzzed"
	fi
	read -r wall crash <"$dir/fuzzed"
	log=$dir/fuzz.log
	if [ "$jobs" -gt 1 ]; then
		# fork mode: "#N: cov: C ft: F corp: ... exec/s: E ..."
		last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)
		execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
		eps=$(sed -nE 's/.*exec\/s: ([0-9]+).*/\1/p' <<<"$last")
	else
		execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
		eps=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")
	fi
	# libFuzzer rounds exec/s down to 0 for a run under a second
	if [ "${eps:-0}" = 0 ] && [ -n "$execs" ]; then
		eps=$((execs / (wall > 0 ? wall : 1)))
	fi
	# the coverage of the corpus it started from: the INITED line, or in
	# fork mode the first status line
	cov0=$(grep -E '(INITED|^#[0-9]+:) +cov: ' "$log" | head -n 1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1\/\2/' || true)
	cov1=$(grep -E 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 | sed -E 's/.*cov: ([0-9]+) ft: ([0-9]+).*/\1\/\2/' || true)
	crashes=0
	for a in "$dir"/artifacts/*; do
		[ -f "$a" ] || continue
		kind=$(basename "$a" | sed -E 's/-.*//')
		case $kind in
		crash | leak | timeout | oom)
			keep_regression "$t" "$a" "$kind"
			crashes=$((crashes + 1))
			;;
		esac
	done
	if [ "$crash" = 1 ] && [ $crashes -eq 0 ]; then
		tail -n 30 "$log"
		echo "fuzz-campaign: $t: the fuzzer failed without leaving an input (log: $log)" >&2
		crashes=1
	elif [ $crashes -gt 0 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -n 5 || true
	fi

	# 2. minimise into a fresh folder that starts with the named seeds
	rm -rf "$dir/merged"
	mkdir -p "$dir/merged"
	others=()
	for f in "$corpus"/*; do
		[ -f "$f" ] || continue
		if is_generated "$f"; then
			others+=("$f")
		else
			cp "$f" "$dir/merged/"
		fi
	done
	rm -rf "$dir/old-generated"
	mkdir -p "$dir/old-generated"
	[ ${#others[@]} -gt 0 ] && cp "${others[@]}" "$dir/old-generated/"
	if ! "$bin" -merge=1 -max_len="$maxlen" -rss_limit_mb=2048 -timeout="$timeout" \
		-merge_control_file="$dir/merge.ctl" "$dir/merged" "$dir/old-generated" "$dir/grow" \
		>"$dir/merge.log" 2>&1; then
		tail -n 20 "$dir/merge.log"
		echo "fuzz-campaign: $t: merge failed (log: $dir/merge.log); corpus left as it was" >&2
		failed=1
		continue
	fi

	# 3. replay everything through the ASan+UBSan build
	mapfile -t all < <(find "$corpus" "$dir/grow" -maxdepth 1 -type f | sort)
	if ! replayed=$(replay "$t" "$dir/replay.log" "${all[@]}"); then
		crashes=$((crashes + 1))
	fi

	# 4. the fresh folder becomes the corpus
	rm -rf "$corpus"
	cp -r "$dir/merged" "$corpus"
	read -r after_n after_b < <(dir_size "$corpus")
	cat >"$dir/result" <<EOF
target=$t
build=$build
jobs=$jobs
seconds=$wall
execs=${execs:-?}
execs_per_s=${eps:-?}
cov_start=${cov0:-?}
cov_end=${cov1:-?}
before_files=$before_n
before_bytes=$before_b
after_files=$after_n
after_bytes=$after_b
replayed=$replayed
crashes=$crashes
EOF
	rm -rf "$dir/grow" "$dir/old-generated" "$dir/fuzzed" "$dir/merge.ctl"
	echo "fuzz-campaign: $t: ${execs:-?} executions in ${wall}s (${eps:-?} exec/s, $build build)," \
		"cov/ft ${cov0:-?} -> ${cov1:-?}, corpus $before_n files $before_b B -> $after_n files" \
		"$after_b B, $replayed inputs replayed under ASan+UBSan, $crashes crash(es)"
	[ "$crashes" -gt 0 ] && failed=1
done

echo
printf '%-16s %-5s %10s %7s %7s %13s %13s %15s %15s %7s\n' target build execs exec/s secs \
	"cov/ft start" "cov/ft end" "corpus before" "corpus after" crashes
for t in "${targets[@]}"; do
	r=$state/$t/result
	if [ ! -f "$r" ]; then
		printf '%-16s %s\n' "$t" "(not finished)"
		failed=1
		continue
	fi
	v() { sed -n "s/^$1=//p" "$r"; }
	printf '%-16s %-5s %10s %7s %7s %13s %13s %15s %15s %7s\n' "$t" "$(v build)" "$(v execs)" \
		"$(v execs_per_s)" "$(v seconds)" "$(v cov_start)" "$(v cov_end)" \
		"$(v before_files)/$(v before_bytes)B" "$(v after_files)/$(v after_bytes)B" "$(v crashes)"
done
exit $failed
