#!/usr/bin/env bash
# Real kubelets on the loopback control plane: the hollow nodes of
# hack/cluster.sh (kubemark --morph=kubelet, the real kubelet with a fake
# container runtime).
#
#   - `nodes 2`: hollow-1 and hollow-2 register and go Ready;
#   - a pod bound to hollow-1 runs, with the fake runtime's IP;
#   - kube-scheduler places a pod without nodeName on a hollow node;
#   - a pod with a podCertificate projected volume for a signer nobody
#     answers stays Pending, and its PodCertificateRequest exists, created
#     by system:node:hollow-1 (the API server's audit log says who);
#   - a node joins with a bootstrap token while csr-approver runs a
#     kubelet-client policy: the kubelet's CSR is approved by csr-approver
#     (AutoApproved) after a SubjectAccessReview that allows nodeclient,
#     signed by kube-controller-manager, and the Node goes Ready; a token
#     whose group is not bound to nodeclient gets its CSR Denied
#     NotAuthorized, its kubelet gives up and no Node appears;
#   - `leave` and `nodes 0` leave no kubelet process, no Node, no bootstrap
#     token and nothing in /tmp behind.
#
# Prints the private memory and CPU use of an idle hollow node as a
# "# figure:" line. Stops any hollow node it finds running at its end.
# CSR_APPROVER_BIN chooses the csr-approver binary.
set -uo pipefail

# shellcheck source=tests/integration/controller-lib.bash
source "$(dirname "${BASH_SOURCE[0]}")/controller-lib.bash"
ctl_setup nodes

CL=$T_ROOT/hack/cluster.sh
STATE=$CSR_APPROVER_CLUSTER_DIR
AUDIT=${CSR_APPROVER_AUDIT_LOG:-}
NS=$IT_NS
tmp=$T_TMP
FAKE_IP=192.168.192.168
J_OK=$IT_RUN-join
J_BAD=$IT_RUN-nojoin
BAD_GROUP=system:bootstrappers:csr-approver-test:no-nodeclient
KSIGNER=kubernetes.io/kube-apiserver-client-kubelet

# A cluster started by an older hack/cluster.sh lacks what this needs.
apid=$(cat "$STATE/pids/kube-apiserver.pid" 2>/dev/null)
if ! tr '\0' ' ' <"/proc/${apid:-0}/cmdline" 2>/dev/null | grep -q -- --enable-bootstrap-token-auth ||
	[[ -z $AUDIT || ! -f $AUDIT ]]; then
	t_abort "the cluster has bootstrap token authentication and the audit log" \
		"it was started by an older hack/cluster.sh: run hack/cluster.sh down, then up"
fi

# At exit, before the controller and the namespace go.
t_on_exit "$CL" nodes 0
t_on_exit "$CL" leave "$J_BAD"
t_on_exit "$CL" leave "$J_OK"

# node_ready NAME: the Ready condition's status ("" without a Node).
node_ready() {
	kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null
}

# pod_state NAME: "PHASE IP"
pod_state() {
	kubectl get pod "$1" -n "$NS" -o jsonpath='{.status.phase} {.status.podIP}' 2>/dev/null
}

# shellcheck disable=SC2317 # called through k8s_wait
pod_running() { [[ $(pod_state "$1") == Running* ]]; }

# audit JQ_FILTER: the audit log's events (ResponseComplete) through the filter.
audit() {
	jq -r "select(.stage == \"ResponseComplete\") | $1" "$AUDIT" 2>/dev/null
}

# node_pid NAME: the hollow node's pid, from its pid file
node_pid() { cat "$STATE/pids/node-$1.pid" 2>/dev/null; }

# alive PID: a process that is not a zombie
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# cpu_ticks PID: user + system time in clock ticks
cpu_ticks() {
	# The command name (field 2) may hold spaces: count from its end.
	sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}

# ---------------------------------------------------------------- nodes 2
if out=$("$CL" nodes 2 2>&1); then
	t_ok "nodes 2: exits 0"
else
	t_abort "nodes 2: exits 0" "$out"
fi
t_eq "nodes 2: hollow-1 and hollow-2 are Ready" "True True" "$(node_ready hollow-1) $(node_ready hollow-2)"
t_eq "nodes 2: the Nodes are reported by a real kubelet of the pinned version" \
	"$CSR_APPROVER_K8S_VERSION $CSR_APPROVER_K8S_VERSION" \
	"$(kubectl get node hollow-1 hollow-2 -o jsonpath='{.items[*].status.nodeInfo.kubeletVersion}')"
t_eq "nodes 2: registered by system:node:NAME (CN, O of its client certificate)" \
	"subject=O=system:nodes, CN=system:node:hollow-1" \
	"$(openssl x509 -in "$STATE/nodes/hollow-1/client.crt" -noout -subject -nameopt sep_comma_plus_space 2>&1)"
t_eq "nodes 2: the not-ready taint is gone once Ready" "" \
	"$(kubectl get node hollow-1 hollow-2 -o jsonpath='{.items[*].spec.taints}')"
# hollow-2 runs no pod: the idle node of the figures below.
idle_pid=$(node_pid hollow-2)
idle_t0=$EPOCHREALTIME
idle_c0=$(cpu_ticks "$idle_pid")
if "$CL" nodes 2 >/dev/null 2>&1 && [[ $(node_pid hollow-2) == "$idle_pid" ]]; then
	t_ok "nodes 2 again: leaves the running nodes alone"
else
	t_fail "nodes 2 again: leaves the running nodes alone" "pid $idle_pid -> $(node_pid hollow-2)"
fi

# ---------------------------------------------------------------- pods
k8s_pod_create "$NS" run-0 -n hollow-1 >/dev/null || t_fail "create pod run-0"
k8s_wait 60 pod_running run-0
t_eq "a pod bound to hollow-1 runs, with the fake runtime's IP" "Running $FAKE_IP" "$(pod_state run-0)"

if "$CL" scheduler >"$tmp/scheduler.out" 2>&1; then
	t_ok "scheduler: kube-scheduler starts"
else
	t_fail "scheduler: kube-scheduler starts" "$(cat "$tmp/scheduler.out")"
fi
kubectl create -f - >/dev/null <<EOF || t_fail "create pod sched-0"
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"sched-0","namespace":"$NS"},
 "spec":{"nodeSelector":{"kubernetes.io/hostname":"hollow-1"},
         "containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]}}
EOF
k8s_wait 60 pod_running sched-0
t_eq "scheduler: a pod without nodeName is placed on a hollow node and runs" \
	"hollow-1 Running $FAKE_IP" \
	"$(kubectl get pod sched-0 -n "$NS" -o jsonpath='{.spec.nodeName}') $(pod_state sched-0)"

PSIGNER=$IT_RUN.example.com/nobody
kubectl create -f - >/dev/null <<EOF || t_fail "create pod pcr-0"
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pcr-0","namespace":"$NS"},
 "spec":{"nodeName":"hollow-1",
         "containers":[{"name":"main","image":"registry.k8s.io/pause:3.10",
                        "volumeMounts":[{"name":"cert","mountPath":"/var/run/cert"}]}],
         "volumes":[{"name":"cert","projected":{"sources":[{"podCertificate":{
             "signerName":"$PSIGNER","keyType":"ECDSAP256",
             "credentialBundlePath":"bundle.pem"}}]}}]}}
EOF
# pcr_names: the PodCertificateRequests for pod pcr-0
pcr_names() {
	kubectl get podcertificaterequests -n "$NS" -o json 2>/dev/null |
		jq -r '.items[] | select(.spec.podName == "pcr-0") | .metadata.name'
}
# shellcheck disable=SC2317 # called through k8s_wait
has_pcr() { [[ -n $(pcr_names) ]]; }
k8s_wait 60 has_pcr
pcr=$(pcr_names | head -n1)
if [[ -n $pcr ]]; then
	t_ok "podCertificate volume: the kubelet created a PodCertificateRequest"
else
	t_fail "podCertificate volume: the kubelet created a PodCertificateRequest"
fi
t_eq "podCertificate volume: the request names the pod, its node and the signer" \
	"pcr-0 hollow-1 $PSIGNER" \
	"$(kubectl get podcertificaterequest "$pcr" -n "$NS" -o jsonpath='{.spec.podName} {.spec.nodeName} {.spec.signerName}' 2>&1)"
t_eq "podCertificate volume: created by system:node:hollow-1 (audit log)" "system:node:hollow-1" \
	"$(audit "select(.objectRef.resource == \"podcertificaterequests\" and .verb == \"create\"
		and .responseObject.metadata.name == \"$pcr\") | .user.username" | sort -u | tr '\n' ' ' | sed 's/ $//')"
t_eq "podCertificate volume: nobody answers, the pod stays Pending" "Pending " "$(pod_state pcr-0)"

# ---------------------------------------------------------------- join
cat >"$tmp/policy.yaml" <<EOF
policies:
  - name: kubelet-client
    signerName: $KSIGNER
    type: kubelet-client
EOF
approver=$IT_RUN-approver
ctl_kc=$(ctl_identity "$approver" "$KSIGNER")
[[ -n $ctl_kc ]] || t_abort "controller identity with its RBAC"
if ctl_start main --kubeconfig "$ctl_kc" --config "$tmp/policy.yaml" --identity "it-$IT_RUN" \
	--metrics-bind-address 0 --health-probe-bind-address 0; then
	t_ok "controller starts with a kubelet-client policy"
else
	t_abort "controller starts with a kubelet-client policy" "$(tail -n 20 "$(ctl_log main)")"
fi

# join_csr TOKEN_ID: the CSR that system:bootstrap:TOKEN_ID created
join_csr() {
	kubectl get csr -o json 2>/dev/null |
		jq -r --arg u "system:bootstrap:$1" '.items[] | select(.spec.username == $u) | .metadata.name'
}

# sar_answer TOKEN_ID: "SUBRESOURCE ALLOWED" of the SubjectAccessReviews the
# approver asked about system:bootstrap:TOKEN_ID
sar_answer() {
	audit "select(.objectRef.resource == \"subjectaccessreviews\" and .user.username == \"$approver\"
		and .requestObject.spec.user == \"system:bootstrap:$1\")
		| \"\(.requestObject.spec.resourceAttributes.subresource) \(.responseObject.status.allowed)\"" |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

ok_id=$("$CL" join "$J_OK" 2>"$tmp/join-ok.err")
rc=$?
if [[ $rc == 0 ]]; then
	t_ok "join: exits 0 once the Node is Ready"
else
	t_fail "join: exits 0 once the Node is Ready" "exit $rc: $(tail -n 15 "$tmp/join-ok.err")"
fi
t_eq "join: the token carries kubeadm's join group" "system:bootstrappers:kubeadm:default-node-token" \
	"$(kubectl get secret "bootstrap-token-$ok_id" -n kube-system -o jsonpath='{.data.auth-extra-groups}' | base64 -d)"
csr=$(join_csr "$ok_id")
t_eq "join: the kubelet asked with a kubelet-client CSR for system:node:$J_OK" \
	"$KSIGNER system:node:$J_OK" \
	"$(kubectl get csr "$csr" -o jsonpath='{.spec.signerName}' 2>&1) $(kubectl get csr "$csr" -o jsonpath='{.spec.request}' |
		base64 -d | openssl req -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= *//p')"
t_eq "join: the CSR is Approved AutoApproved" "Approved:AutoApproved" "$(ctl_wait_decided "$csr" 10)"
t_eq "join: csr-approver decided it" 1 "$(ctl_decided_lines "$csr" "$(ctl_log main)")"
t_eq "join: after a SubjectAccessReview that allows nodeclient" "nodeclient true" "$(sar_answer "$ok_id")"
kubectl get csr "$csr" -o jsonpath='{.status.certificate}' | base64 -d >"$tmp/join-ok.crt" 2>/dev/null
t_eq "join: signed by kube-controller-manager with the cluster CA" "$tmp/join-ok.crt: OK" \
	"$(openssl verify -CAfile "$CSR_APPROVER_CA_CERT" "$tmp/join-ok.crt" 2>&1)"
t_eq "join: the Node is Ready" True "$(node_ready "$J_OK")"

bad_id=$("$CL" join "$J_BAD" "$BAD_GROUP" 2>"$tmp/join-bad.err")
rc=$?
if [[ $rc != 0 ]] && grep -q "denied, reason: NotAuthorized" "$tmp/join-bad.err"; then
	t_ok "join, token without nodeclient: fails, the kubelet reports the denial"
else
	t_fail "join, token without nodeclient: fails, the kubelet reports the denial" \
		"exit $rc: $(tail -n 15 "$tmp/join-bad.err")"
fi
csr=$(join_csr "$bad_id")
t_eq "join, token without nodeclient: the CSR is Denied NotAuthorized" "Denied:NotAuthorized" \
	"$(ctl_wait_decided "$csr" 10)"
t_eq "join, token without nodeclient: csr-approver decided it" 1 "$(ctl_decided_lines "$csr" "$(ctl_log main)")"
t_eq "join, token without nodeclient: the SubjectAccessReview says no" "nodeclient false" \
	"$(sar_answer "$bad_id")"
t_eq "join, token without nodeclient: no certificate" "" \
	"$(kubectl get csr "$csr" -o jsonpath='{.status.certificate}' 2>&1)"
bad_pid=$(node_pid "$J_BAD")
if [[ -n $bad_pid ]] && ! alive "$bad_pid"; then
	t_ok "join, token without nodeclient: the kubelet gave up"
else
	t_fail "join, token without nodeclient: the kubelet gave up" "pid ${bad_pid:-none} runs"
fi
t_eq "join, token without nodeclient: no Node" "" "$(kubectl get node "$J_BAD" -o name 2>/dev/null)"

# ---------------------------------------------------------------- figures
idle_c1=$(cpu_ticks "$idle_pid")
idle_t1=$EPOCHREALTIME
hz=$(getconf CLK_TCK)
priv=$(awk '/^Private_(Clean|Dirty):/ {kb += $2} END {print kb}' "/proc/$idle_pid/smaps_rollup" 2>/dev/null)
awk -v kb="${priv:-0}" -v c0="$idle_c0" -v c1="$idle_c1" -v hz="$hz" -v t0="$idle_t0" -v t1="$idle_t1" 'BEGIN {
	s = t1 - t0
	printf "# figure: idle hollow node: %.1f MiB private memory, %.2f %% of a core over %.0f s\n",
		kb / 1024, 100 * (c1 - c0) / hz / s, s
}'

# ---------------------------------------------------------------- leave, nodes 0
pids=()
for n in hollow-1 hollow-2 "$J_OK" "$J_BAD"; do
	p=$(node_pid "$n") && pids+=("$p")
done
# What kubemark made in /tmp, as the logs of this run of each node name it
# (each run starts with a "=== ... start" line).
leftovers=$(for n in hollow-1 hollow-2 "$J_OK" "$J_BAD"; do
	awk '/^=== / {run = ""} {run = run $0 "\n"} END {printf "%s", run}' "$STATE/logs/node-$n.log" 2>/dev/null
done | sed -n -e 's/.*Using \(\/tmp\/hollow-kubelet\.[0-9]*\) as root dir.*/\1/p' \
	-e 's/.*endpoint="unix:\/\/\(\/tmp\/kubelet_remote_[0-9]*\.sock\)".*/\1/p' | sort -u)
t_eq "the kubelets' logs name their root dirs and runtime sockets" 6 "$(grep -c . <<<"$leftovers")"

t_check "leave: the joined node" "$CL" leave "$J_OK"
t_check "leave: the node that did not join" "$CL" leave "$J_BAD"
t_check "nodes 0: exits 0" "$CL" nodes 0
still=""
for p in "${pids[@]}"; do
	alive "$p" && still+="$p "
done
t_eq "nodes 0: no kubelet process left" "" "$still"
t_eq "nodes 0: kube-scheduler stopped" "" "$(cat "$STATE/pids/kube-scheduler.pid" 2>/dev/null)"
t_eq "nodes 0: no Node left" "" \
	"$(kubectl get node hollow-1 hollow-2 "$J_OK" "$J_BAD" -o name --ignore-not-found 2>&1)"
t_eq "nodes 0: no bootstrap token left" "" \
	"$(kubectl get secret -n kube-system -o name --ignore-not-found "bootstrap-token-$ok_id" "bootstrap-token-$bad_id" 2>&1)"
t_eq "nodes 0: nothing left in /tmp" "" "$(for f in $leftovers; do [[ -e $f ]] && echo "$f"; done)"
t_eq "nodes 0: no node folder left" "" "$(ls -A "$STATE/nodes" 2>/dev/null)"

t_done
