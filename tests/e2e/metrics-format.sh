#!/usr/bin/env bash
# /metrics output through a real Prometheus format check: promtool check
# metrics (built from its Go module by hack/build-promtool.sh), or, where
# promtool cannot be built, a checker on the Prometheus client library's
# own text parser.
#
#   1. a full scrape served by csr-approver's HTTP server (every metric
#      family in use, label values that need escaping), captured by the
#      unit test httpd::served_metrics_sample;
#   2. a live scrape of `csr-approver run` against the local control plane,
#      when that command is available.
#
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1
t_tmp
T=$T_TMP

# ------------------------------------------------------------------ the checker

# CSR_APPROVER_PROMCHECK=fallback checks with the small parser-only checker.
build_args=()
[[ ${CSR_APPROVER_PROMCHECK:-} == fallback ]] && build_args=(--fallback)
if checker=$(hack/build-promtool.sh "${build_args[@]}" 2>"$T/build.err") && [[ -x $checker ]]; then
	t_ok "format checker built: $(basename "$checker") ($checker)"
else
	t_abort "format checker built" "$(tail -n 20 "$T/build.err")"
fi

check() { "$checker" check metrics <"$1"; }

# The checker must be able to say no, or a pass proves nothing.
printf '# TYPE x counter\nx_total{a="b\\q"} 1\n' >"$T/bad-escape.txt"
printf '# TYPE x_total counter\nx_total{a="b"} 1\nx_total{a="b"} one\n' >"$T/bad-value.txt"
printf '# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n' >"$T/bad-name.txt"
t_check_fails "the checker rejects an invalid escape in a label value" check "$T/bad-escape.txt"
t_check_fails "the checker rejects a non-numeric sample value" check "$T/bad-value.txt"
t_check_fails "the checker rejects a counter without the _total suffix" check "$T/bad-name.txt"

# ------------------------------------------------------------------ a served sample

unit=${CSR_APPROVER_UNIT_BIN:-build/unit-tests}
if [[ ! -x $unit || -n ${CSR_APPROVER_REBUILD:-} ]]; then
	make -s "$unit" >"$T/make.log" 2>&1 || t_abort "unit test binary built" "$(tail -n 20 "$T/make.log")"
fi
sample=$T/sample.txt
if CSR_APPROVER_METRICS_SAMPLE=$sample "$unit" --filter 'httpd/served_metrics_sample' >"$T/unit.log" 2>&1 &&
	[[ -s $sample ]]; then
	t_ok "a full /metrics scrape captured ($(wc -l <"$sample") lines)"
else
	t_abort "a full /metrics scrape captured" "$(tail -n 20 "$T/unit.log")"
fi

if out=$(check "$sample" 2>&1); then
	t_ok "the scrape passes $(basename "$checker") check metrics"
else
	t_fail "the scrape passes $(basename "$checker") check metrics" "$out"
fi

families="csr_approver_decisions_total:counter csr_approver_decision_duration_seconds:histogram
csr_approver_api_requests_total:counter csr_approver_watch_restarts_total:counter
csr_approver_cache_objects:gauge csr_approver_is_leader:gauge csr_approver_build_info:gauge
csr_approver_pending:gauge csr_approver_unmanaged:gauge csr_approver_foreign_decisions_total:counter
csr_approver_certificates_issued_total:counter
csr_approver_certificate_expiry_earliest_timestamp_seconds:gauge
csr_approver_certificates_expiring:gauge csr_approver_audit_write_failures_total:counter
csr_approver_ready:gauge
process_cpu_seconds_total:counter process_resident_memory_bytes:gauge
process_virtual_memory_bytes:gauge process_open_fds:gauge process_max_fds:gauge
process_start_time_seconds:gauge"
missing=""
for f in $families; do
	grep -qx "# TYPE ${f%%:*} ${f#*:}" "$sample" || missing+=" $f"
done
t_eq "every metric of SPEC.md is there, with its type" "" "${missing# }"

t_check "label values with a quote, a backslash and a newline are escaped" \
	grep -qF 'policy="odd \"name\" \\ with\nnewline"' "$sample"

# ------------------------------------------------------------------ a live scrape

bin=${CSR_APPROVER_BIN:-build/csr-approver}
if [[ ! -x $bin ]] || ! "$bin" run --help >/dev/null 2>&1; then
	t_skip "live scrape of csr-approver run" "the run command is not available in $bin"
	t_done
fi

t_cluster
if ! mport=$(t_port) || ! pport=$(t_port "$mport"); then
	t_abort "free loopback ports"
fi

"$bin" run --kubeconfig "$KUBECONFIG" --metrics-bind-address "127.0.0.1:$mport" \
	--health-probe-bind-address "127.0.0.1:$pport" --log-format text >"$T/run.log" 2>&1 &
pid=$!
t_on_exit kill "$pid"

ready=""
for ((i = 0; i < 150; i++)); do
	if curl -fsS --max-time 2 "http://127.0.0.1:$pport/readyz" >/dev/null 2>&1; then
		ready=1
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
if [[ -n $ready ]]; then
	t_ok "csr-approver run is ready (/readyz on the probe address)"
else
	t_abort "csr-approver run is ready (/readyz on the probe address)" "$(tail -n 20 "$T/run.log")"
fi

t_check "/healthz answers on the probe address" curl -fsS --max-time 5 "http://127.0.0.1:$pport/healthz"
if curl -fsS --max-time 5 -D "$T/live.head" -o "$T/live.txt" "http://127.0.0.1:$mport/metrics"; then
	t_ok "/metrics answers on the metrics address"
	t_eq "Content-Type of /metrics" "text/plain; version=0.0.4; charset=utf-8" \
		"$(grep -i '^content-type:' "$T/live.head" | sed 's/^[^:]*: *//' | tr -d '\r')"
	if out=$(check "$T/live.txt" 2>&1); then
		t_ok "the live scrape passes $(basename "$checker") check metrics"
	else
		t_fail "the live scrape passes $(basename "$checker") check metrics" "$out"
	fi
	t_check "the live scrape counts its API requests" \
		grep -qE '^csr_approver_api_requests_total\{.*\} [1-9]' "$T/live.txt"
else
	t_fail "/metrics answers on the metrics address" "$(tail -n 20 "$T/run.log")"
fi
t_eq "POST /metrics is refused with 405" 405 \
	"$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/metrics")"

kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
t_eq "csr-approver run exits 0 on SIGTERM" 0 "$?"

t_done
