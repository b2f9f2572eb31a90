#!/usr/bin/env bash
# The chart's alerts and dashboard (docs/alerts.md):
#   - the PrometheusRule renders only with prometheusRule.enabled and when
#     monitoring.coreos.com/v1 is served; its rules pass `promtool check
#     rules`, and `promtool test rules` with tests/e2e/alerts-test.yaml: per
#     alert, series that must fire it and series that must not (and the tests
#     fail on rules with another threshold: they can say no);
#   - every alert has a runbook section in docs/alerts.md, which its
#     runbook_url names;
#   - the dashboard ConfigMap carries grafana_dashboard: "1" and valid JSON
#     with the panels the chart promises;
#   - every metric a rule or a panel queries is one csr-approver exports (a
#     full /metrics scrape captured by the unit test
#     httpd::served_metrics_sample).
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1
t_cluster
t_tmp
T=$T_TMP
CHART=charts/csr-approver

if promtool=$(hack/build-promtool.sh 2>"$T/build.err") && [[ $(basename "$promtool") == promtool ]]; then
	t_ok "promtool built ($promtool)"
else
	t_abort "promtool built (test rules needs the real promtool)" "$(tail -n 20 "$T/build.err")"
fi

# render ARGS...: the PrometheusRule's spec (its groups) into stdout
rule_args=(--set fullnameOverride=csr-approver --set prometheusRule.enabled=true
	--set 'prometheusRule.ignoreUnmanagedSigners={kubernetes.io/kube-apiserver-client-kubelet}'
	--set 'prometheusRule.expiryExcludePolicies={short}')
render() {
	helm template x "$CHART" --api-versions monitoring.coreos.com/v1 \
		-s templates/prometheusrule.yaml "$@" | awk '/^spec:$/ { f = 1; next } f { sub(/^  /, ""); print }'
}

# ------------------------------------------------------------------ rendering
t_check "helm lint --strict with the alerts and the dashboard" \
	helm lint --strict "$CHART" --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true
kinds() { helm template x "$CHART" "$@" | grep -E '^kind: ' | sed 's/^kind: //' | sort | uniq -c | awk '{print $2 "=" $1}' | tr '\n' ' '; }
t_check "a PrometheusRule when enabled and monitoring.coreos.com/v1 is served" \
	grep -q 'PrometheusRule=1' <<<"$(kinds --set prometheusRule.enabled=true --api-versions monitoring.coreos.com/v1)"
t_check_fails "none when the API is not served" \
	grep -q 'PrometheusRule' <<<"$(kinds --set prometheusRule.enabled=true)"
t_check_fails "none when not enabled" \
	grep -q 'PrometheusRule' <<<"$(kinds --api-versions monitoring.coreos.com/v1)"
out=$(helm template x "$CHART" --set prometheusRule.enabled=true --set prometheusRule.denialsPer30m=-1 2>&1)
if [[ $? -ne 0 && $out == *denialsPer30m* ]]; then
	t_ok "the schema refuses a negative denial threshold"
else
	t_fail "the schema refuses a negative denial threshold" "$out"
fi

render "${rule_args[@]}" >"$T/rules.yaml"
cp "$here/alerts-test.yaml" "$T/alerts-test.yaml"
t_check "promtool check rules" "$promtool" check rules "$T/rules.yaml"
n_alerts=$(grep -c '^  - alert: ' "$T/rules.yaml")
t_eq "ten alerts" 10 "$n_alerts"
if out=$(cd "$T" && "$promtool" test rules alerts-test.yaml 2>&1); then
	t_ok "promtool test rules: $(grep -c '^  - name: ' "$T/alerts-test.yaml") tests pass"
else
	t_fail "promtool test rules" "$(tail -n 40 <<<"$out")"
fi
# Each alert has a test where it fires and one where it must not.
for a in $(sed -n 's/^  - alert: //p' "$T/rules.yaml"); do
	fires=$(awk -v a="$a" '$0 ~ "alertname: " a "$" { f = 1; next } f && /exp_alerts:/ { print ($0 ~ /\[\]/ ? "no" : "yes"); f = 0 }' \
		"$T/alerts-test.yaml" | sort -u | tr '\n' ' ')
	t_eq "$a: tested firing and quiet" "no yes " "$fires"
done
# The tests can fail: the same tests on rules with another threshold.
render "${rule_args[@]}" --set prometheusRule.denialsPer30m=100 >"$T/rules.yaml"
t_check_fails "promtool test rules fails when a threshold changes (the tests can say no)" \
	bash -c "cd '$T' && '$promtool' test rules alerts-test.yaml"
render "${rule_args[@]}" >"$T/rules.yaml"

# ------------------------------------------------------------------ runbooks
for a in $(sed -n 's/^  - alert: //p' "$T/rules.yaml"); do
	anchor=$(tr '[:upper:]' '[:lower:]' <<<"$a")
	t_check "$a: a runbook section in docs/alerts.md" grep -qx "## $a" docs/alerts.md
	t_check "$a: runbook_url names it" grep -q "runbook_url: .*docs/alerts.md#$anchor\$" "$T/rules.yaml"
done

# ------------------------------------------------------------------ the dashboard
helm template x "$CHART" --set grafanaDashboard.enabled=true -s templates/grafana-dashboard.yaml >"$T/dash.yaml"
kubectl create --dry-run=client -o json -f "$T/dash.yaml" >"$T/dash-cm.json" 2>"$T/err" ||
	t_fail "the dashboard ConfigMap parses" "$(cat "$T/err")"
t_eq "the dashboard ConfigMap is labelled grafana_dashboard: \"1\"" 1 \
	"$(jq -r '.metadata.labels.grafana_dashboard' "$T/dash-cm.json")"
jq -r '.data["csr-approver.json"]' "$T/dash-cm.json" >"$T/dashboard.json"
t_check "the dashboard is valid JSON" jq -e . "$T/dashboard.json"
t_eq "the ConfigMap holds the chart's dashboard file unchanged" \
	"$(jq -cS . "$CHART/files/dashboard.json")" "$(jq -cS . "$T/dashboard.json")"
for title in "Decisions by reason" "Decision latency" "Decision latency histogram" "Pending by age" \
	"Expiry timeline: time left of the earliest certificate"; do
	t_eq "panel \"$title\"" 1 "$(jq --arg t "$title" '[.panels[] | select(.title == $t)] | length' "$T/dashboard.json")"
done
t_eq "every panel but the rows has a query" "" \
	"$(jq -r '.panels[] | select(.type != "row" and ((.targets // []) | length) == 0) | .title' "$T/dashboard.json")"

# ------------------------------------------------------------------ every metric exists
unit=${CSR_APPROVER_UNIT_BIN:-build/unit-tests}
if [[ ! -x $unit ]]; then
	make -s "$unit" >"$T/make.log" 2>&1 || t_abort "unit test binary built" "$(tail -n 20 "$T/make.log")"
fi
CSR_APPROVER_METRICS_SAMPLE=$T/sample.txt "$unit" --filter 'httpd/served_metrics_sample' >"$T/unit.log" 2>&1 ||
	t_abort "a full /metrics scrape captured" "$(tail -n 20 "$T/unit.log")"
sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$T/sample.txt" | sort -u >"$T/families"
exported() { # METRIC: a family, or a histogram's series
	local m=$1
	[[ $m == up ]] && return 0 # Prometheus's own
	grep -qx "$m" "$T/families" && return 0
	case $m in *_bucket | *_sum | *_count) grep -qx "${m%_*}" "$T/families" ;; *) return 1 ;; esac
}
names() { grep -oE '\b(csr_approver_[a-z_]+|up)\{' | tr -d '{' | sort -u; }
missing=""
for m in $(grep -E '^ +(absent|sum|max|min|histogram_quantile|up)|csr_approver_' "$T/rules.yaml" | names); do
	exported "$m" || missing+=" $m"
done
t_eq "every metric the rules query is exported" "" "${missing# }"
used=$(jq -r '.. | objects | .expr? // empty' "$T/dashboard.json" | names | wc -l)
missing=""
for m in $(jq -r '.. | objects | .expr? // empty' "$T/dashboard.json" | names); do
	exported "$m" || missing+=" $m"
done
t_eq "every metric the dashboard's $used queries name is exported" "" "${missing# }"
t_check "the dashboard's job variable reads a metric that exists" \
	exported "$(jq -r '.templating.list[] | select(.name == "job") | .definition' "$T/dashboard.json" |
		grep -oE 'csr_approver_[a-z_]+')"

t_done
