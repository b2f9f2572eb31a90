#!/usr/bin/env bash
# Governance against the real control plane (SPEC.md, "Governance"): the
# inventory (`csr-approver report`), `why`, the audit log and the
# governance metrics, on a scripted mixed cluster state:
#
#   g-ok      policy w approves a pod's CSR, the built-in signer issues it
#             (lifetime 2h: within --expiring 7d)
#   g-deny    policy w denies a CSR asking for another service's name
#   g-long    policy long issues for 30 days (outside the 7-day window)
#   g-hand    policy manual (leave-pending) leaves it pending; a person then
#             approves it with `kubectl certificate approve`: foreign
#   g-late    policy manual leaves it pending, older than --pending-over
#   g-shadow  a signer no policy covers: unmanaged (and pending)
#   brief     policy brief issues for 60 s: the certificate expires during
#             the suite (left out of the report by its labels)
#
# Checked: the report's rows and summary in table, JSON and CSV and the
# --fail-on exit codes; `why` and `check --kubeconfig`; every metric moving
# as the cluster changes (created, decided, issued, expired, deleted) and
# the live scrape through promtool; the audit log: one JSON line per
# decision and issuance with the fields of SPEC.md, the key fingerprint and
# serial those of the real key and certificate, nothing lost across a
# SIGHUP rotation, no key material.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup governance

A=$IT_NS
tmp=$T_TMP
bin=$(ctl_bin)
W=$IT_RUN.example.com/workload
M=manual.$W
L=long.$W
B=brief.$W
S=$IT_RUN.example.com/shadow
INV="gov=inv"
SEL="$IT_LABEL,$INV"

# ---------------------------------------------------------------- CA, policies, RBAC
ca=$tmp/ca
mkdir -p "$ca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$ca/tls.key" \
	-out "$ca/tls.crt" -subj "/CN=$IT_RUN governance CA" -days 3650 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
	2>/dev/null || t_abort "make the CA"

cat >"$tmp/gov-policy.yaml" <<EOF
policies:
  - name: w
    signerName: $W
    type: workload
    namespaces: ["$A"]
    issue: {caCertFile: $ca/tls.crt, caKeyFile: $ca/tls.key, lifetime: 2h, trustBundle: false}
  - name: long
    signerName: $L
    type: workload
    namespaces: ["$A"]
    issue: {caCertFile: $ca/tls.crt, caKeyFile: $ca/tls.key, lifetime: 720h, trustBundle: false}
  - name: brief
    signerName: $B
    type: workload
    namespaces: ["$A"]
    issue: {caCertFile: $ca/tls.crt, caKeyFile: $ca/tls.key, lifetime: 60s, backdate: 0s, trustBundle: false}
  - name: manual
    signerName: $M
    type: workload
    onFailure: leave-pending
    namespaces: ["$A"]
EOF

signers=("$W" "$L" "$B" "$M")
ctl_kc=$(ctl_identity "$IT_RUN-gov" "${signers[@]}") || t_abort "controller identity"
names=""
for s in "$W" "$L" "$B"; do
	names+="${names:+, }\"$s\""
done
kubectl apply -f - >/dev/null <<EOF || t_abort "signing RBAC"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "$IT_RUN-gov-signing", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/status]
  verbs: [update]
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [$names]
  verbs: [sign]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "$IT_RUN-gov-signing", labels: {"$IT_LABEL_KEY": "$IT_RUN"}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "$IT_RUN-gov-signing"}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: "$IT_RUN-gov"}
EOF

ctl_workload_world "$A" 10.244.9.10 "$tmp" || t_abort "workload world"
mport=$(t_port) || t_abort "a free port"
audit=$tmp/audit.log
ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/gov-policy.yaml" \
	--metrics-bind-address "127.0.0.1:$mport" --health-probe-bind-address 0 \
	--audit-log "$audit" || t_abort "controller starts"

# ---------------------------------------------------------------- helpers
scrape() { curl -fsS --max-time 5 "http://127.0.0.1:$mport/metrics"; }
# metric SERIES: the value of one series (exact name and labels), "" when absent
metric() {
	scrape | awk -v s="$1" 'index($0, s " ") == 1 { print $2 }'
}
# wait_metric SERIES WANT [TIMEOUT_S]: the series reaches WANT ("" = absent)
wait_metric() {
	local deadline=$((SECONDS + ${3:-20})) got
	while :; do
		got=$(metric "$1")
		[[ $got == "$2" ]] && return 0
		((SECONDS < deadline)) || {
			echo "$1: want '$2', got '$got'" >&2
			return 1
		}
		sleep 0.2
	done
}
check_metric() { # DESC SERIES WANT [TIMEOUT_S]
	local out
	if out=$(wait_metric "$2" "$3" "${4:-20}" 2>&1); then
		t_ok "$1"
	else
		t_fail "$1" "$out"
	fi
}
# ask NAME SIGNER CSR_FILE LABELS...: a CSR of the pod web-0
ask() {
	local name=$1 signer=$2 file=$3
	shift 3
	it_as "$tmp/web.kubeconfig" k8s_csr_create "$IT_RUN-$name" "$signer" "$file" "$WUSAGES" "" \
		"$IT_LABEL" "$@" || t_fail "create CSR $name"
}
audit_lines() { cat "$audit".* "$audit" 2>/dev/null | grep -c . || true; }
# audit_line NAME DECISION: the audit line of CSR NAME with that decision
audit_line() {
	cat "$audit".* "$audit" 2>/dev/null |
		jq -c --arg n "$IT_RUN-$1" --arg d "$2" 'select(.name == $n and .decision == $d)'
}
wait_audit() { # NAME DECISION [TIMEOUT_S]
	local deadline=$((SECONDS + ${3:-20}))
	until [[ -n $(audit_line "$1" "$2") ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

pw='csr_approver_pending{signer="'$W'",age="lt1m"}'
pm='csr_approver_pending{signer="'$M'",age="lt1m"}'
ush='csr_approver_unmanaged{signer="'$S'"}'

# ---------------------------------------------------------------- metrics from the start
check_metric "pending{signer=w,age=lt1m} is 0 before any CSR" "$pw" 0
check_metric "no unmanaged series for the shadow signer yet" "$ush" ""
check_metric "issued_total{policy=w,kind=csr} starts at 0" \
	'csr_approver_certificates_issued_total{policy="w",kind="csr"}' 0
check_metric "expiring{policy=w,within=24h} starts at 0" \
	'csr_approver_certificates_expiring{policy="w",within="24h"}' 0
check_metric "foreign_decisions_total{signer=manual,decision=approve} starts at 0" \
	'csr_approver_foreign_decisions_total{signer="'$M'",decision="approve"}' 0
check_metric "ready once the caches have synced" csr_approver_ready 1

# ---------------------------------------------------------------- created
ask g-shadow "$S" "$tmp/good.csr" "$INV"
check_metric "created: a CSR under a signer no policy covers is unmanaged" "$ush" 1
check_metric "created: and pending (lt1m) under its own signer label" \
	'csr_approver_pending{signer="'$S'",age="lt1m"}' 1
ask g-late "$M" "$tmp/bad.csr" "$INV"
wait_audit g-late leave-pending || t_fail "g-late left pending" "$(tail -n 5 "$(ctl_log main)")"
check_metric "created: a CSR left pending counts in pending{signer=manual,age=lt1m}" "$pm" 1
ask g-hand "$M" "$tmp/bad.csr" "$INV"
wait_audit g-hand leave-pending || t_fail "g-hand left pending"
check_metric "created: two pending under manual" "$pm" 2

# ---------------------------------------------------------------- decided by someone else
kubectl certificate approve "$IT_RUN-g-hand" >/dev/null || t_fail "kubectl certificate approve"
check_metric "decided: a person's approval of our signer's CSR is a foreign decision" \
	'csr_approver_foreign_decisions_total{signer="'$M'",decision="approve"}' 1
check_metric "decided: it leaves the pending count" "$pm" 1

# ---------------------------------------------------------------- decided and issued by us
ask g-deny "$W" "$tmp/bad.csr" "$INV"
t_eq "g-deny: denied by policy w" "Denied:SANNotAllowed" "$(ctl_wait_decided "$IT_RUN-g-deny")"
ask g-ok "$W" "$tmp/good.csr" "$INV"
t_eq "g-ok: approved" "Approved:AutoApproved" "$(ctl_wait_decided "$IT_RUN-g-ok")"
k8s_csr_wait_cert "$IT_RUN-g-ok" "$tmp/g-ok.crt" 30 || t_fail "g-ok: certificate issued"
ask g-long "$L" "$tmp/good.csr" "$INV"
k8s_csr_wait_cert "$IT_RUN-g-long" "$tmp/g-long.crt" 30 || t_fail "g-long: certificate issued"
check_metric "issued: issued_total{policy=w,kind=csr} 1" \
	'csr_approver_certificates_issued_total{policy="w",kind="csr"}' 1
check_metric "decided: pending{signer=w} back to 0" "$pw" 0
check_metric "issued: expiring{policy=w,within=24h} 1 (lifetime 2h)" \
	'csr_approver_certificates_expiring{policy="w",within="24h"}' 1
check_metric "issued: expiring{policy=w,within=7d} 1" \
	'csr_approver_certificates_expiring{policy="w",within="7d"}' 1
notafter=$(date -d "$(openssl x509 -in "$tmp/g-ok.crt" -noout -enddate | cut -d= -f2)" +%s)
check_metric "issued: the earliest expiry of policy w is g-ok's notAfter" \
	'csr_approver_certificate_expiry_earliest_timestamp_seconds{policy="w"}' "$notafter"
check_metric "issued: a 30-day certificate is not within 7d" \
	'csr_approver_certificates_expiring{policy="long",within="7d"}' 0
la=$(date -d "$(openssl x509 -in "$tmp/g-long.crt" -noout -enddate | cut -d= -f2)" +%s)
check_metric "issued: but has its earliest expiry" \
	'csr_approver_certificate_expiry_earliest_timestamp_seconds{policy="long"}' "$la"

# The brief certificate: issued now, expired within a minute and a half.
ask brief "$B" "$tmp/good.csr"
k8s_csr_wait_cert "$IT_RUN-brief" "$tmp/brief.crt" 30 || t_fail "brief: certificate issued"
check_metric "issued: a 60 s certificate is within 24h" \
	'csr_approver_certificates_expiring{policy="brief",within="24h"}' 1

# ---------------------------------------------------------------- expired
ba=$(date -d "$(openssl x509 -in "$tmp/brief.crt" -noout -enddate | cut -d= -f2)" +%s)
wait_s=$((ba - $(date +%s) + 15))
((wait_s < 5)) && wait_s=5
check_metric "expired: the 60 s certificate leaves expiring{policy=brief,within=24h}" \
	'csr_approver_certificates_expiring{policy="brief",within="24h"}' 0 "$wait_s"
check_metric "expired: and policy brief has no earliest expiry any more" \
	'csr_approver_certificate_expiry_earliest_timestamp_seconds{policy="brief"}' ""
# ---------------------------------------------------------------- the report
# g-late and g-shadow are pending, older than --pending-over 2s and than a
# minute (the lt15m bucket) by now; made sure of, for a fast machine.
created() { date -d "$(kubectl get csr "$IT_RUN-$1" -o jsonpath='{.metadata.creationTimestamp}')" +%s; }
until (($(date +%s) > $(created g-late) + 61)); do sleep 0.5; done
rep() { "$bin" report --kubeconfig "$KUBECONFIG" --config "$tmp/gov-policy.yaml" -l "$SEL" \
	--pending-over 2s "$@"; }

if rep -o json >"$tmp/r.json" 2>"$tmp/r.err"; then
	t_ok "report -o json exits 0 without --fail-on"
else
	t_fail "report -o json exits 0 without --fail-on" "$(cat "$tmp/r.err")"
fi
rows=$(jq -r '.items[] | [.name, .state, (.decided.text // "-"), (.findings | join(","))] | join(" ")' \
	"$tmp/r.json" | sed "s/^$IT_RUN-//")
want="g-shadow Pending - pending,unmanaged
g-late Pending - pending
g-hand Approved kubectl foreign
g-deny Denied csr-approver/w 
g-ok Issued csr-approver/w expiring
g-long Issued csr-approver/long "
# Sorted by signer, then name: shadow < manual.W < W < long.W.
t_eq "report json: exactly the expected rows (name, state, decider, findings)" \
	"$(sort <<<"$want")" "$(sort <<<"$rows")"
t_eq "report json: summary findings" '{"pending":2,"unmanaged":1,"foreign":1,"expiring":1}' \
	"$(jq -c .summary.findings "$tmp/r.json")"
t_eq "report json: counts of CSRs by state" \
	'{"total":6,"pending":2,"approved":1,"issued":2,"denied":1,"failed":0}' \
	"$(jq -c .summary.csr "$tmp/r.json")"
t_eq "report json: pending by signer and age" \
	"[\"$S 0 1 0 0\",\"$M 0 1 0 0\"]" \
	"$(jq -c '[.summary.pending[] | "\(.signerName) \(.lt1m) \(.lt15m) \(.lt1h) \(.ge1h)"]' "$tmp/r.json")"
t_eq "report json: unmanaged by signer" "[\"$S 1\"]" \
	"$(jq -c '[.summary.unmanaged[] | "\(.signerName) \(.count)"]' "$tmp/r.json")"
t_eq "report json: foreign names the person" "[\"$IT_RUN-g-hand approve kubectl\"]" \
	"$(jq -c '[.summary.foreign[] | "\(.name) \(.decision) \(.decidedBy)"]' "$tmp/r.json")"
serial=$(openssl x509 -in "$tmp/g-ok.crt" -noout -serial | cut -d= -f2)
t_eq "report json: g-ok's serial and notAfter are the certificate's" \
	"$serial $(date -u -d "@$notafter" +%Y-%m-%dT%H:%M:%SZ)" \
	"$(jq -r --arg n "$IT_RUN-g-ok" '.items[] | select(.name==$n) | "\(.certificate.serial) \(.certificate.notAfter)"' "$tmp/r.json")"
t_eq "report json: g-ok's identity and names" \
	"$A/web-0 $A/web ECDSA-P256 $spiffe,10.244.9.10,web.$A.svc" \
	"$(jq -r --arg n "$IT_RUN-g-ok" '.items[] | select(.name==$n) | "\(.pod) \(.serviceAccount) \(.keyType) \(.names | join(","))"' "$tmp/r.json")"

if rep -o csv >"$tmp/r.csv" 2>"$tmp/r.csv.err"; then
	t_ok "report -o csv exits 0"
else
	t_fail "report -o csv exits 0" "$(cat "$tmp/r.csv.err")"
fi
t_eq "report csv: a header and 6 rows" 7 "$(wc -l <"$tmp/r.csv")"
t_check "report csv: the header" grep -qx 'kind,name,uid,signer,policy,requester,identity,names,state,decided_by,decision,decided_at,created,serial,not_after,seconds_left,findings' "$tmp/r.csv"
sa="system:serviceaccount:$A:web"
T2='[^,]*,[^,]*' # decided_at, created
csv_row() { # DESC REGEX
	t_check "report csv: $1" grep -qE "^$2\$" "$tmp/r.csv"
}
csv_row "g-ok" "csr,$IT_RUN-g-ok,[^,]*,$W,w,$sa,pod $A/web-0,$spiffe 10.244.9.10 web.$A.svc,Issued,csr-approver/w,approve,$T2,$serial,[^,]*,[0-9]+,expiring"
csv_row "g-deny" "csr,$IT_RUN-g-deny,[^,]*,$W,w,$sa,pod $A/web-0,$spiffe web.$A.svc db.$A.svc,Denied,csr-approver/w,deny,$T2,,,,"
csv_row "g-long" "csr,$IT_RUN-g-long,[^,]*,$L,long,$sa,pod $A/web-0,[^,]*,Issued,csr-approver/long,approve,$T2,[0-9A-F]+,[^,]*,[0-9]+,"
csv_row "g-hand" "csr,$IT_RUN-g-hand,[^,]*,$M,manual,$sa,pod $A/web-0,[^,]*,Approved,kubectl,approve,$T2,,,,foreign"
csv_row "g-late" "csr,$IT_RUN-g-late,[^,]*,$M,manual,$sa,pod $A/web-0,[^,]*,Pending,,,,[^,]*,,,,pending"
csv_row "g-shadow" "csr,$IT_RUN-g-shadow,[^,]*,$S,,$sa,pod $A/web-0,[^,]*,Pending,,,,[^,]*,,,,\"pending,unmanaged\""
t_check "report csv: the summary goes to stderr" \
	grep -qx '  findings: pending 2, unmanaged 1, foreign 1, expiring 1' "$tmp/r.csv.err"

if COLUMNS=400 rep >"$tmp/r.txt" 2>"$tmp/r.txt.err" && COLUMNS=120 rep >"$tmp/r120.txt" 2>&1; then
	t_ok "report (table) exits 0"
else
	t_fail "report (table) exits 0" "$(cat "$tmp/r.txt.err")"
fi
t_check "report table: the header" grep -qE '^NAME +AGE +SIGNER +REQUESTER +IDENTITY +NAMES +STATE +DECIDED-BY +DECIDED +EXPIRES +FINDINGS$' "$tmp/r.txt"
t_eq "report table: 6 rows" 6 "$(sed -n '2,/^$/p' "$tmp/r.txt" | grep -c .)"
t_check "report table: g-ok issued by policy w, expiring in under 2h" \
	grep -qE "^$IT_RUN-g-ok .* Issued +csr-approver/w +[0-9]+[sm] +1[0-9]{2}m +expiring$" "$tmp/r.txt"
t_check "report table: g-hand approved with kubectl" \
	grep -qE "^$IT_RUN-g-hand .* Approved +kubectl +[0-9]+[sm] +- +foreign$" "$tmp/r.txt"
t_check "report table: g-shadow pending, unmanaged" \
	grep -qE "^$IT_RUN-g-shadow +[0-9]+[sm] +$S .* Pending +- +- +- +pending,unmanaged$" "$tmp/r.txt"
t_check "report table: the summary" grep -qx '  findings: pending 2, unmanaged 1, foreign 1, expiring 1' "$tmp/r.txt"
t_check "report table: pending by signer and age" grep -qxF "    $M: lt1m 0, lt15m 1, lt1h 0, ge1h 0" "$tmp/r.txt"
t_eq "report table at COLUMNS=120: 6 rows" 6 "$(sed -n '2,/^$/p' "$tmp/r120.txt" | grep -c .)"
t_eq "report table at COLUMNS=120: no line of the table is wider" "" \
	"$(sed -n '1,/^$/p' "$tmp/r120.txt" | awk 'length($0) > 120')"
t_check "report table at COLUMNS=120: long cells are cut with ..." grep -q '\.\.\.' "$tmp/r120.txt"

# --fail-on
fail_rc() { rep -o json "$@" >/dev/null 2>&1; echo $?; }
t_eq "--fail-on pending: exit 1" 1 "$(fail_rc --fail-on pending)"
t_eq "--fail-on unmanaged: exit 1" 1 "$(fail_rc --fail-on unmanaged)"
t_eq "--fail-on foreign: exit 1" 1 "$(fail_rc --fail-on foreign)"
t_eq "--fail-on expiring: exit 1" 1 "$(fail_rc --fail-on expiring)"
t_eq "--fail-on expiring --expiring 1m: nothing expires that soon, exit 0" 0 \
	"$(fail_rc --fail-on expiring --expiring 1m)"
t_eq "--fail-on pending --pending-over 1h: nothing pending that long, exit 0" 0 \
	"$(fail_rc --fail-on pending --pending-over 1h)"
t_eq "--fail-on all: exit 1" 1 \
	"$(fail_rc --fail-on all)"
t_eq "--fail-on bogus: exit 2" 2 "$(fail_rc --fail-on bogus)"
t_eq "--expiring soon: exit 2" 2 "$(fail_rc --expiring soon)"
out=$("$bin" report --kubeconfig "$tmp/web.kubeconfig" 2>&1)
rc=$?
t_eq "report with an identity that may not list CSRs: exit 2" 2 "$rc"
t_check "and says it is forbidden" grep -q 'forbidden' <<<"$out"

# ---------------------------------------------------------------- why / check --kubeconfig
"$bin" why --kubeconfig "$KUBECONFIG" --config "$tmp/gov-policy.yaml" "$IT_RUN-g-deny" >"$tmp/why.txt" 2>&1
t_eq "why g-deny: exit 1 (deny)" 1 "$?"
t_check "why g-deny: the SAN check fails, naming the name" \
	grep -qE '^  FAIL +every SAN is a name the requester owns \[SANNotAllowed\]' "$tmp/why.txt"
t_check "why g-deny: the detail names db.$A.svc" grep -qF "DNS SAN \"db.$A.svc\"" "$tmp/why.txt"
t_check "why g-deny: the pod check passes" grep -qE '^  pass +the pod named by the token exists' "$tmp/why.txt"
t_check "why g-deny: what it carries now" grep -qE '^  now: +Denied \(SANNotAllowed\) by csr-approver/w' "$tmp/why.txt"
t_check "why g-deny: the pod was read live" grep -qE "^  Pod $A/web-0: found \(uid " "$tmp/why.txt"
t_check "why g-deny: and the Services of its namespace" grep -qE "^  services in $A: 1\$" "$tmp/why.txt"
"$bin" check --kubeconfig "$KUBECONFIG" --config "$tmp/gov-policy.yaml" "$IT_RUN-g-ok" >"$tmp/check.json" 2>&1
t_eq "check --kubeconfig g-ok: exit 0 (approve)" 0 "$?"
t_eq "check --kubeconfig g-ok: the record, every check passed, objects read" \
	"approve AutoApproved w true Approved 1" \
	"$(jq -r '"\(.decision) \(.reason) \(.policy) \([.checks[].result] | all(. == "pass")) \(.alreadyDecided.type) \([.objects[] | select(.kind == "Pod")] | length)"' "$tmp/check.json")"
"$bin" why --kubeconfig "$KUBECONFIG" --config "$tmp/gov-policy.yaml" "$IT_RUN-g-shadow" >/dev/null 2>&1
t_eq "why g-shadow (no policy): exit 3 (skip)" 3 "$?"
"$bin" why --kubeconfig "$KUBECONFIG" --config "$tmp/gov-policy.yaml" "$IT_RUN-nope" >"$tmp/why-nope" 2>&1
t_eq "why of a CSR that does not exist: exit 2" 2 "$?"
t_check "and says so" grep -q 'no such CertificateSigningRequest' "$tmp/why-nope"

# ---------------------------------------------------------------- the audit log
t_check "audit: every line is one JSON object" jq -e . "$audit"
for d in "g-ok approve" "g-deny deny" "g-ok issue" "g-long approve" "g-long issue" \
	"g-late leave-pending" "g-hand leave-pending" "brief approve" "brief issue"; do
	set -- $d
	t_eq "audit: one line for $1 $2" 1 "$(audit_line "$1" "$2" | grep -c .)"
done
t_eq "audit: nothing else (9 lines)" 9 "$(audit_lines)"
line=$(audit_line g-ok issue)
spki=$(openssl pkey -in "$tmp/good.key" -pubout -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
t_eq "audit: g-ok's issuance line holds the fields of SPEC.md" \
	"issuance CertificateSigningRequest $(kubectl get csr "$IT_RUN-g-ok" -o jsonpath='{.metadata.uid}') $W system:serviceaccount:$A:web true $A/web-0 ECDSA-P256 $spiffe,10.244.9.10,web.$A.svc w Issued csr-approver/w" \
	"$(jq -r '"\(.event) \(.kind) \(.uid) \(.signerName) \(.requester.username) \(.requester.groups | index("system:serviceaccounts:'"$A"'") != null) \(.pod) \(.keyType) \(.sans | join(",")) \(.policy) \(.reason) \(.approvedBy)"' <<<"$line")"
t_eq "audit: the key fingerprint is the SHA-256 of the key's SubjectPublicKeyInfo" "$spki" \
	"$(jq -r .spkiSHA256 <<<"$line")"
t_eq "audit: serial and notAfter are the issued certificate's" \
	"$serial $(date -u -d "@$notafter" +%Y-%m-%dT%H:%M:%S).000Z" \
	"$(jq -r '"\(.certificate.serial) \(.certificate.notAfter)"' <<<"$line")"
t_eq "audit: the denial's reason and message" \
	"deny SANNotAllowed true null" \
	"$(audit_line g-deny deny | jq -r '"\(.decision) \(.reason) \(.message | contains("db.'"$A"'.svc")) \(.approvedBy)"')"
t_eq "audit: no key, request or certificate in the log" 0 \
	"$(grep -cE 'BEGIN|PRIVATE|MII' "$audit" || true)"

# Rotation: the file is moved away, SIGHUP, and the next lines go to a new file.
mv "$audit" "$audit.1"
ctl_signal main HUP
if ctl_wait_log main 'audit log reopened' 10; then
	t_ok "audit: SIGHUP reopens the log"
else
	t_fail "audit: SIGHUP reopens the log" "$(tail -n 5 "$(ctl_log main)")"
fi
t_check "audit: the controller is still running after SIGHUP" ctl_running main
ask after "$W" "$tmp/good.csr"
k8s_csr_wait_cert "$IT_RUN-after" "$tmp/after.crt" 30 || t_fail "after: certificate issued"
wait_audit after issue || t_fail "after: issuance audited"
t_eq "audit: after the rotation, the new file holds the new lines" 2 "$(grep -c . "$audit")"
t_eq "audit: the old file kept its 9 lines" 9 "$(grep -c . "$audit.1")"
t_eq "audit: nothing lost: 11 lines in all" 11 "$(audit_lines)"

# ---------------------------------------------------------------- deleted
kubectl delete csr "$IT_RUN-g-shadow" >/dev/null
check_metric "deleted: the shadow signer's unmanaged series goes away" "$ush" ""


# ---------------------------------------------------------------- the scrape passes promtool
if checker=$("$T_ROOT/hack/build-promtool.sh" 2>"$tmp/promtool.err") && [[ -x $checker ]]; then
	scrape >"$tmp/live.txt"
	t_check "the live scrape passes $(basename "$checker") check metrics" \
		"$checker" check metrics <"$tmp/live.txt"
	for f in csr_approver_pending csr_approver_unmanaged csr_approver_foreign_decisions_total \
		csr_approver_certificates_issued_total \
		csr_approver_certificate_expiry_earliest_timestamp_seconds \
		csr_approver_certificates_expiring csr_approver_audit_write_failures_total; do
		t_check "the live scrape has $f" grep -q "^# TYPE $f " "$tmp/live.txt"
	done
	t_eq "no audit write failed" 0 "$(metric csr_approver_audit_write_failures_total)"
else
	t_fail "promtool built" "$(tail -n 5 "$tmp/promtool.err")"
fi
t_eq "labels are bounded: no series names a CSR or a pod" "" \
	"$(grep -E "$IT_RUN-|web-0" "$tmp/live.txt" | grep -v '^#' || true)"

ctl_stop main
t_eq "the controller exits 0 on SIGTERM" 0 "$?"
t_done
