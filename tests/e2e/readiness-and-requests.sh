#!/usr/bin/env bash
# What `csr-approver run` tells the one who watches it, against the local
# control plane:
#   - /readyz names the caches it still waits for, here because the API
#     server cannot be reached at all;
#   - csr_approver_api_requests_total counts the requests that got no HTTP
#     answer, as code="0", as docs/metrics.md says;
#   - it counts a WATCH as soon as the watch starts, while it is still open
#     (a watch lasts minutes: counting it at its end hid it).
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1
t_tmp
T=$T_TMP

bin=${CSR_APPROVER_BIN:-build/csr-approver}
if [[ ! -x $bin ]]; then
	make -s "$bin" >"$T/make.log" 2>&1 || t_abort "csr-approver built" "$(tail -n 20 "$T/make.log")"
fi
t_cluster

# Start `csr-approver run` with KUBECONFIG_FILE; sets pid, mport, pport.
start_run() { # NAME KUBECONFIG_FILE
	mport=$(t_port) && pport=$(t_port "$mport") || t_abort "free loopback ports"
	"$bin" run --kubeconfig "$2" --metrics-bind-address "127.0.0.1:$mport" \
		--health-probe-bind-address "127.0.0.1:$pport" --log-format text >"$T/$1.log" 2>&1 &
	pid=$!
	t_on_exit kill "$pid"
}

# Poll URL until its body matches the extended regex, for at most 15 s;
# the last body is in $T/body.
wait_body() { # URL REGEX
	local i
	for ((i = 0; i < 75; i++)); do
		curl -s --max-time 2 -o "$T/body" "$1" 2>/dev/null
		grep -qE "$2" "$T/body" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

stop_run() {
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ------------------------------------------------------------------ an API server that does not answer

closed=$(t_port) || t_abort "a closed loopback port"
sed -E "s#(server: *)https://[^ ]+#\1https://127.0.0.1:$closed#" "$KUBECONFIG" >"$T/closed.kubeconfig"
t_check "a kubeconfig for a closed port" grep -q "127.0.0.1:$closed" "$T/closed.kubeconfig"
start_run closed "$T/closed.kubeconfig"

if wait_body "http://127.0.0.1:$pport/readyz" 'certificatesigningrequests'; then
	t_ok "/readyz names the cache it waits for"
else
	t_fail "/readyz names the cache it waits for" "$(cat "$T/body" 2>/dev/null)"$'\n'"$(tail -n 5 "$T/closed.log")"
fi
t_eq "/readyz: 503 with what it waits for" \
	"503 not ready: caches not synced yet: certificatesigningrequests" \
	"$(curl -s --max-time 2 -w '%{http_code} ' -o "$T/ready.txt" "http://127.0.0.1:$pport/readyz")$(cat "$T/ready.txt")"
if wait_body "http://127.0.0.1:$mport/metrics" \
	'^csr_approver_api_requests_total\{verb="LIST",resource="certificatesigningrequests",code="0"\} [1-9]'; then
	t_ok "requests without an HTTP answer are counted as code=\"0\""
else
	t_fail "requests without an HTTP answer are counted as code=\"0\"" \
		"$(grep api_requests "$T/body" 2>/dev/null)"$'\n'"$(tail -n 5 "$T/closed.log")"
fi
stop_run

# ------------------------------------------------------------------ the real API server

start_run live "$KUBECONFIG"
if wait_body "http://127.0.0.1:$pport/readyz" '^ok$'; then
	t_ok "ready once the caches synced"
else
	t_abort "ready once the caches synced" "$(cat "$T/body")"$'\n'"$(tail -n 20 "$T/live.log")"
fi
# The CSR watch is open now and for minutes: it must already count.
if wait_body "http://127.0.0.1:$mport/metrics" \
	'^csr_approver_api_requests_total\{verb="WATCH",resource="certificatesigningrequests",code="200"\} 1$'; then
	t_ok "an open WATCH is counted when it starts"
else
	t_fail "an open WATCH is counted when it starts" "$(grep api_requests "$T/body")"
fi
t_check "the LIST before it is counted too" \
	grep -qE '^csr_approver_api_requests_total\{verb="LIST",resource="certificatesigningrequests",code="200"\} [1-9]' "$T/body"
stop_run
t_eq "csr-approver run exits 0 on SIGTERM" 0 "$?"

t_done
