#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for csr-approver's tests, demo
# and benchmarks: etcd, kube-apiserver and kube-controller-manager, built by
# hack/k8s-build.sh, running as plain processes (no containers); on demand
# real kubelets without containers ("hollow nodes") and kube-scheduler.
#
# Usage: hack/cluster.sh COMMAND
#   up                 build the binaries if needed, make the PKI, start the
#                      components, wait until ready, print the env lines.
#                      Safe to repeat: a healthy cluster is left alone, a
#                      stopped component is started again on its old port.
#   down               stop the processes this script started, remove state
#   env                print the lines for: eval "$(hack/cluster.sh env)"
#   status             each component running/stopped, apiserver /readyz;
#                      exit status 0 only when all is up and ready
#   stop-apiserver [--kill]   stop kube-apiserver only (SIGTERM, or SIGKILL)
#   start-apiserver [--no-http2]
#                      start it again, same port, same etcd data; wait ready
#                      (kube-controller-manager is restarted with it, so it
#                      works at once instead of after client-go's backoff).
#                      --no-http2: with --disable-http2-serving, so its TLS
#                      offers only http/1.1 in ALPN (a server that does not
#                      speak HTTP/2). The choice holds for that start only:
#                      any start without it (start-apiserver,
#                      restart-apiserver, up after a stop) serves HTTP/2
#                      again, and a running apiserver with the other setting
#                      is restarted. `status` prints the one in force.
#   restart-apiserver [--kill] [--no-http2]
#                      stop-apiserver then start-apiserver
#   stop-etcd [--kill] stop etcd only (SIGTERM, or SIGKILL); kube-apiserver
#                      keeps running and answers 5xx or waits meanwhile
#   start-etcd         start etcd again, same port, same data; wait until it
#                      is healthy and kube-apiserver is ready again
#   nodes N            make the cluster have N Ready hollow nodes hollow-1 ..
#                      hollow-N (starts the missing ones, stops the others);
#                      0 stops them all, and kube-scheduler
#   join NAME [GROUP]  a hollow node NAME that joins the way kubeadm's nodes
#                      do: a fresh bootstrap token (Secret bootstrap-token-ID
#                      in kube-system, extra group GROUP, default
#                      system:bootstrappers:kubeadm:default-node-token), with
#                      which its kubelet asks for its client certificate by a
#                      kubelet-client CSR that someone must approve. Prints the
#                      token id at once; exits 0 once the Node is Ready, 1 if
#                      the kubelet gave up (CSR denied) or on timeout
#   leave NAME         stop a hollow node; delete its Node and its token
#   scheduler [start|stop]   kube-scheduler, for pods without spec.nodeName
#
# Hollow nodes are kubemark --morph=kubelet: the real kubelet with a fake
# container runtime. It registers its Node with a node client certificate
# (CN=system:node:NAME, O=system:nodes: the Node authorizer and
# NodeRestriction apply), runs the pods bound to it (each gets the fake
# runtime's IP 192.168.192.168; images are "pulled" by a fake image service),
# and creates a PodCertificateRequest for each podCertificate projected
# volume, writing the bundle once the request is issued. It does not ask for
# a kubelet-serving certificate. Each node listens on its own port below
# 32768; an idle one costs about 15-20 MiB of private memory and half a
# percent of a core; from about a hundred of them on, the default
# fs.inotify.max_user_instances (128) gets short (the script warns).
# kubemark puts its root dir and runtime socket in /tmp (no flag to move
# them); this script removes them when it stops the node. The node
# lifecycle controller does not run, so once a Node is Ready this script
# takes away the not-ready taint itself; with kube-scheduler running, pods
# without nodeName go to hollow nodes (and would get the fake IP: do not
# leave it running under suites that set pod status by hand).
#
# CSR_APPROVER_APISERVER_PROFILING=true: the kube-apiserver this start runs
# serves /debug/pprof (off otherwise; hack/bench-compare.sh's
# BENCH_PPROF_DIR reads it).
#
# State (PKI, kubeconfigs, etcd data, nodes/, logs/, pids/) lives in
# $CSR_APPROVER_CLUSTER_DIR, default .cluster/ at the repository root.
#
# What the cluster looks like:
#   - authorization Node,RBAC; admission defaults plus NodeRestriction;
#     ServiceAccount admission on (the controller manager makes the
#     "default" ServiceAccount of each namespace); bootstrap token
#     authentication on; an audit log (logs/audit.log,
#     $CSR_APPROVER_AUDIT_LOG) of the creation of CSRs,
#     PodCertificateRequests and SubjectAccessReviews, with request and
#     response (who created what, what was asked and answered).
#   - kube-controller-manager runs the CSR signing and cleaner controllers,
#     the service-account, service-account-token, root-CA publisher,
#     namespace and garbage-collector controllers, and NOT the CSR approving
#     controller: csr-approver is the only approver. Nor the pod GC or node
#     lifecycle controllers, so pods on nodes without a kubelet stay put.
#   - identities (client certificates from the cluster CA, one kubeconfig each):
#       admin      CN=csr-approver-admin, O=system:masters
#       node-0     CN=system:node:node-0, O=system:nodes
#       bootstrap  CN=system:bootstrap:abcdef, O=system:bootstrappers,
#                  O=system:bootstrappers:kubeadm:default-node-token
#   - ClusterRoleBindings as kubeadm makes them: system:bootstrappers may
#     create CSRs (system:node-bootstrapper); the group of kubeadm's join
#     token, system:bootstrappers:kubeadm:default-node-token, may request
#     node client certificates (...:nodeclient), so a bootstrap token with
#     another extra group may ask but is not allowed (SubjectAccessReview
#     says no); system:nodes may renew their own (...:selfnodeclient).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
# shellcheck source=hack/lib/versions.sh
source "$here/lib/versions.sh"
# shellcheck source=hack/lib/pki.sh
source "$here/lib/pki.sh"

STATE=$(realpath -m "${CSR_APPROVER_CLUSTER_DIR:-$repo/.cluster}")
BIN=$CSR_APPROVER_K8S_BIN
PKI=$STATE/pki
KCFG=$STATE/kubeconfigs
LOGS=$STATE/logs
PIDS=$STATE/pids
PORTS=$STATE/ports.env
NODES=$STATE/nodes

READY_TIMEOUT=${CSR_APPROVER_CLUSTER_TIMEOUT:-90}
STOP_TIMEOUT=10
SA_ISSUER=https://kubernetes.default.svc.cluster.local
NODE_NAME=node-0
COMPONENTS=(etcd kube-apiserver kube-controller-manager)
# The extra group of kubeadm's node-join token, the one bound to nodeclient.
JOIN_GROUP=system:bootstrappers:kubeadm:default-node-token

say() { echo "cluster: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# ---------------------------------------------------------------- processes

pidfile() { echo "$PIDS/$1.pid"; }

# running NAME [BINARY]: the pid file NAME.pid names a live process of
# BINARY (default NAME).
running() {
	local f pid bin=${2:-$1}
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	# Guard against a recycled pid: the process must be this component,
	# started with this state folder.
	local argv=()
	[[ -r /proc/$pid/cmdline ]] || return 1
	mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
	[[ ${#argv[@]} -gt 0 && ${argv[0]##*/} == "$bin" && " ${argv[*]}" == *"=$STATE/"* ]]
}

# start NAME ARGS...: start a component in its own session, detached.
start() {
	spawn "$1" "$@"
}

# spawn NAME BINARY ARGS...: start BINARY detached, its pid in NAME.pid and
# its output in logs/NAME.log.
spawn() {
	local name=$1 bin=$2 pid
	shift 2
	mkdir -p "$LOGS" "$PIDS"
	[[ -x $BIN/$bin ]] || die "$BIN/$bin is missing; run hack/k8s-build.sh"
	echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start $name" >>"$LOGS/$name.log"
	# No job control here, so the subshell is not a group leader and setsid
	# execs in place: $! is the component's own pid.
	# fd 8 is the command lock (see lock()): the component must not keep it.
	(exec setsid "$BIN/$bin" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 8>&-) &
	pid=$!
	echo "$pid" >"$(pidfile "$name")"
	exec_wait "$pid" "$bin"
}

# exec_wait PID BINARY: wait (up to 10 s) until PID has exec'd BINARY or
# died. Until the exec the pid is still the subshell (then setsid), whose
# name is not the component's: running() would take a component that is
# starting on a busy machine for one that exited.
exec_wait() {
	local pid=$1 bin=$2 i argv=()
	for ((i = 0; i < 200; i++)); do
		argv=()
		mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 0
		# A process that died (a zombie until reaped) has no cmdline.
		((${#argv[@]} == 0)) && return 0
		[[ ${argv[0]##*/} == "$bin" ]] && return 0
		sleep 0.05
	done
	say "$bin (pid $pid) was not running after 10 s"
}

# exit_status NAME: sets EXIT_NOTE to " (exit status N)" or " (killed by
# signal N)" for a component this shell started that has exited, to nothing
# otherwise. Not in $(...): wait only knows this shell's own children.
EXIT_NOTE=
exit_status() {
	local f pid st=0
	EXIT_NOTE=
	f=$(pidfile "$1")
	[[ -f $f ]] || return 0
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	# Only a child that has exited (no cmdline: a zombie, or gone): wait
	# would block on a running one. (-s is no use: /proc files have size 0.)
	local argv=()
	mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || true
	((${#argv[@]} == 0)) || return 0
	wait "$pid" 2>/dev/null || st=$?
	((st == 127)) && return 0 # not this shell's child
	if ((st > 128)); then
		EXIT_NOTE=" (killed by signal $((st - 128)))"
	else
		EXIT_NOTE=" (exit status $st)"
	fi
}

# stop NAME [SIGNAL [BINARY]]: stop a component by its pid file; TERM (or
# SIGNAL), then KILL after STOP_TIMEOUT seconds.
stop() {
	local name=$1 sig=${2:-TERM} bin=${3:-$1} f pid i
	f=$(pidfile "$name")
	if running "$name" "$bin"; then
		pid=$(<"$f")
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			running "$name" "$bin" || break
			sleep 0.1
		done
		if running "$name" "$bin"; then
			say "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				running "$name" "$bin" || break
				sleep 0.1
			done
		fi
		running "$name" "$bin" && die "could not stop $name (pid $pid)"
	fi
	rm -f "$f"
}

log_tail() { # NAME
	if [[ -s $LOGS/$1.log ]]; then
		say "last lines of $LOGS/$1.log:"
		tail -n 30 "$LOGS/$1.log" >&2
	fi
}

# ---------------------------------------------------------------- ports

port_free() { # PORT: nothing listens on 127.0.0.1:PORT
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_wait_free() { # PORT: wait up to 10 s
	local i
	for ((i = 0; i < 50; i++)); do
		port_free "$1" && return 0
		sleep 0.2
	done
	return 1
}

# free_port EXCLUDE...: a port in 20000-32767 nothing listens on; below
# the kernel's ephemeral range (32768-60999), so no outgoing connection
# holds it by the time a component binds it.
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
		[[ " $* " == *" $p "* ]] && continue
		port_free "$p" && {
			echo "$p"
			return 0
		}
	done
	die "no free loopback port found"
}

load_ports() {
	[[ -f $PORTS ]] || return 1
	# shellcheck source=/dev/null
	source "$PORTS"
}

pick_ports() {
	local a b c d
	a=$(free_port)
	b=$(free_port "$a")
	c=$(free_port "$a" "$b")
	d=$(free_port "$a" "$b" "$c")
	cat >"$PORTS" <<EOF
ETCD_PORT=$a
ETCD_PEER_PORT=$b
APISERVER_PORT=$c
KCM_PORT=$d
EOF
}

# ---------------------------------------------------------------- PKI

make_pki() {
	[[ -f $PKI/.complete ]] && return 0
	rm -rf "$PKI" "$KCFG"
	mkdir -p "$PKI" "$KCFG"
	pki_ca "$PKI"
	pki_serving_cert "$PKI" apiserver kube-apiserver \
		"IP:127.0.0.1,IP:::1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
	pki_sa_keypair "$PKI"
	pki_client_cert "$PKI" admin csr-approver-admin system:masters
	pki_client_cert "$PKI" "$NODE_NAME" "system:node:$NODE_NAME" system:nodes
	pki_client_cert "$PKI" bootstrap system:bootstrap:abcdef system:bootstrappers "$JOIN_GROUP"
	pki_client_cert "$PKI" kube-controller-manager system:kube-controller-manager
	touch "$PKI/.complete"
}

# ensure_bootstrap_identity: the bootstrap identity of a cluster made before
# it carried kubeadm's join group (the one nodeclient is bound to) is made
# again with it.
ensure_bootstrap_identity() { # needs ports
	openssl x509 -in "$PKI/bootstrap.crt" -noout -subject 2>/dev/null | grep -qF "$JOIN_GROUP" && return 0
	pki_client_cert "$PKI" bootstrap system:bootstrap:abcdef system:bootstrappers "$JOIN_GROUP"
	pki_kubeconfig "$KCFG/bootstrap.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" "$PKI/ca.crt" \
		"$PKI/bootstrap.crt" "$PKI/bootstrap.key" bootstrap
}

make_kubeconfigs() { # needs ports
	local server="https://127.0.0.1:$APISERVER_PORT" n
	for n in admin "$NODE_NAME" bootstrap kube-controller-manager; do
		pki_kubeconfig "$KCFG/$n.kubeconfig" "$server" "$PKI/ca.crt" "$PKI/$n.crt" "$PKI/$n.key" "$n"
	done
}

# ---------------------------------------------------------------- components

start_etcd() {
	mkdir -p "$STATE/etcd"
	chmod 700 "$STATE/etcd"
	start etcd \
		--name=csr-approver \
		--data-dir="$STATE/etcd" \
		--listen-client-urls="http://127.0.0.1:$ETCD_PORT" \
		--advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
		--listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster="csr-approver=http://127.0.0.1:$ETCD_PEER_PORT" \
		--unsafe-no-fsync=true \
		--log-level=warn
}

# The audit log records who created CSRs and PodCertificateRequests and
# the SubjectAccessReviews asked, with request and response: the tests read
# it to tell who did what (a PodCertificateRequest does not name its
# creator).
write_audit_policy() {
	cat >"$STATE/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: RequestResponse
  verbs: [create]
  resources:
  - group: certificates.k8s.io
    resources: [certificatesigningrequests, podcertificaterequests]
  - group: authorization.k8s.io
    resources: [subjectaccessreviews]
- level: None
EOF
}

# /debug/pprof on kube-apiserver, for any start of it (see the top).
APISERVER_PROFILING=${CSR_APPROVER_APISERVER_PROFILING:-false}
[[ $APISERVER_PROFILING == true || $APISERVER_PROFILING == false ]] ||
	die "CSR_APPROVER_APISERVER_PROFILING must be true or false, not \"$APISERVER_PROFILING\""

# HTTP/2 serving of the next kube-apiserver start: on, or off for
# start-apiserver --no-http2. The setting of the running one is in
# $STATE/apiserver-http2 ("on" or "off").
APISERVER_HTTP2=on

# apiserver_http2: the HTTP/2 setting the running kube-apiserver was started
# with (on when not recorded: every start before this file existed had it).
apiserver_http2() {
	local v=on
	[[ -f $STATE/apiserver-http2 ]] && v=$(<"$STATE/apiserver-http2")
	echo "$v"
}

start_apiserver() {
	local extra=()
	[[ $APISERVER_HTTP2 == off ]] && extra+=(--disable-http2-serving=true)
	write_audit_policy
	echo "$APISERVER_HTTP2" >"$STATE/apiserver-http2"
	start kube-apiserver \
		--etcd-servers="http://127.0.0.1:$ETCD_PORT" \
		--bind-address=127.0.0.1 \
		--advertise-address=127.0.0.1 \
		--endpoint-reconciler-type=none \
		--secure-port="$APISERVER_PORT" \
		--tls-cert-file="$PKI/apiserver.crt" \
		--tls-private-key-file="$PKI/apiserver.key" \
		--client-ca-file="$PKI/ca.crt" \
		--authorization-mode=Node,RBAC \
		--enable-bootstrap-token-auth=true \
		--enable-admission-plugins=NodeRestriction \
		--service-account-issuer="$SA_ISSUER" \
		--api-audiences="$SA_ISSUER" \
		--service-account-key-file="$PKI/sa.pub" \
		--service-account-signing-key-file="$PKI/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		--allow-privileged=true \
		--shutdown-send-retry-after=true \
		--profiling="$APISERVER_PROFILING" \
		--audit-policy-file="$STATE/audit-policy.yaml" \
		--audit-log-path="$LOGS/audit.log" \
		--audit-log-maxsize=50 \
		--audit-log-maxbackup=1 \
		--cert-dir="$STATE/apiserver-certs" \
		"${extra[@]}"
}

start_kcm() {
	start kube-controller-manager \
		--kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
		--authentication-kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
		--authorization-kubeconfig="$KCFG/kube-controller-manager.kubeconfig" \
		--authentication-skip-lookup=true \
		--bind-address=127.0.0.1 \
		--secure-port="$KCM_PORT" \
		--cert-dir="$STATE/kcm-certs" \
		--leader-elect=false \
		--use-service-account-credentials=true \
		--controllers=serviceaccount-controller,serviceaccount-token-controller,root-ca-certificate-publisher-controller,certificatesigningrequest-signing-controller,certificatesigningrequest-cleaner-controller,namespace-controller,garbage-collector-controller \
		--cluster-signing-cert-file="$PKI/ca.crt" \
		--cluster-signing-key-file="$PKI/ca.key" \
		--root-ca-file="$PKI/ca.crt" \
		--service-account-private-key-file="$PKI/sa.key" \
		--profiling=false
}

kubectl_admin() { "$BIN/kubectl" --kubeconfig="$KCFG/admin.kubeconfig" "$@"; }

# https GET against the apiserver as admin; prints the body.
api_get() { # PATH
	curl -fsS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT$1" 2>/dev/null
}

etcd_healthy() {
	curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'
}

# wait_for WHAT COMPONENT CMD...: poll CMD every 0.2s until it succeeds, the
# component dies, or READY_TIMEOUT passes.
wait_for() {
	local what=$1 comp=$2 deadline=$((SECONDS + READY_TIMEOUT))
	shift 2
	until "$@"; do
		if ! running "$comp"; then
			exit_status "$comp"
			log_tail "$comp"
			die "$comp exited$EXIT_NOTE while waiting for $what"
		fi
		if ((SECONDS >= deadline)); then
			log_tail "$comp"
			die "timed out after ${READY_TIMEOUT}s waiting for $what"
		fi
		sleep 0.2
	done
}

apiserver_ready() { [[ $(api_get /readyz) == ok ]]; }

default_sa_exists() { api_get /api/v1/namespaces/default/serviceaccounts/default >/dev/null; }

ensure_etcd() {
	running etcd && return 0
	start_etcd
	wait_for "etcd to be healthy" etcd etcd_healthy
}

APISERVER_STARTED=0

ensure_apiserver() {
	if ! running kube-apiserver; then
		start_apiserver
		APISERVER_STARTED=1
	fi
	wait_for "kube-apiserver /readyz" kube-apiserver apiserver_ready
}

kcm_healthy() {
	[[ $(curl -ksS --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz" 2>/dev/null) == ok ]]
}

ensure_kcm() {
	# After the apiserver was away, client-go in kube-controller-manager
	# backs off up to 30 s before it lists and watches again: a fresh one
	# signs certificates and makes service accounts at once.
	if ((APISERVER_STARTED)) && running kube-controller-manager; then
		stop kube-controller-manager
	fi
	if ! running kube-controller-manager; then
		# One just stopped may hold its port for a moment while it exits.
		port_wait_free "$KCM_PORT" || die "port $KCM_PORT is taken by another process"
		start_kcm
	fi
	wait_for "kube-controller-manager /healthz" kube-controller-manager kcm_healthy
	wait_for "the default ServiceAccount (made by kube-controller-manager)" kube-controller-manager default_sa_exists
}

# The bindings kubeadm makes for node bootstrap and certificate rotation.
apply_rbac() {
	kubectl_admin apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: csr-approver-test:kubelet-bootstrap
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:node-bootstrapper
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: csr-approver-test:node-autoapprove-bootstrap
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:certificates.k8s.io:certificatesigningrequests:nodeclient
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:bootstrappers:kubeadm:default-node-token
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: csr-approver-test:node-autoapprove-certificate-rotation
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:certificates.k8s.io:certificatesigningrequests:selfnodeclient
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: Group
  name: system:nodes
EOF
}

# ---------------------------------------------------------------- hollow nodes
#
# A hollow node is kubemark --morph=kubelet: the real kubelet with a fake
# container runtime, as process "node-NAME" (pids/node-NAME.pid,
# logs/node-NAME.log) with its kubeconfig and certificates in nodes/NAME/.
# kubemark makes its root dir (/tmp/hollow-kubelet.NNN) and its runtime
# socket (/tmp/kubelet_remote_NNN.sock) itself, with no flag to put them
# elsewhere, and leaves both behind when it ends: it logs their names (the
# socket's through --vmodule), and node_cleanup removes them from there.

node_running() { running "node-$1" kubemark; }

# node_names: every node with a pid file or a folder, running or not.
node_names() {
	local f names=()
	for f in "$PIDS"/node-*.pid; do
		[[ -e $f ]] || continue
		f=${f##*/node-}
		names+=("${f%.pid}")
	done
	for f in "$NODES"/*/; do
		[[ -d $f ]] || continue
		f=${f%/}
		names+=("${f##*/}")
	done
	((${#names[@]})) && printf '%s\n' "${names[@]}" | sort -u
	return 0
}

# node_start NAME PORT [BOOTSTRAP_KUBECONFIG]: a hollow kubelet for node
# NAME with its kubelet API on PORT. With a bootstrap kubeconfig it first
# gets its client certificate through a CSR (written to nodes/NAME/kubeconfig
# and nodes/NAME/pki/), else nodes/NAME/kubeconfig must already hold one.
node_start() {
	local name=$1 port=$2 boot=${3:-} dir=$NODES/$1
	local args=(
		--morph=kubelet
		--name="$name"
		--kubeconfig="$dir/kubeconfig"
		--cert-dir="$dir/pki"
		--kubelet-port="$port"
		--kubelet-read-only-port=0
		# The host's image service is containerd's socket: use the fake one.
		--use-host-image-service=false
		# Log the fake runtime's socket path, so that node_cleanup finds it.
		--vmodule=remote_runtime=3
	)
	[[ -n $boot ]] && args+=(--bootstrap-kubeconfig="$boot")
	spawn "node-$name" kubemark "${args[@]}"
}

# node_cleanup NAME: remove what the (stopped) kubelet left outside the
# state folder, as named by its log; only paths of kubemark's own patterns.
node_cleanup() {
	local log=$LOGS/node-$1.log p
	[[ -f $log ]] || return 0
	while IFS= read -r p; do
		if [[ $p =~ ^/tmp/hollow-kubelet\.[0-9]+$ || $p =~ ^/tmp/kubelet_remote_[0-9]+\.sock$ ]]; then
			rm -rf -- "$p"
		fi
	done < <(sed -n -e 's/.*Using \(\/tmp\/hollow-kubelet\.[0-9]*\) as root dir.*/\1/p' \
		-e 's/.*"Connecting to runtime service" endpoint="unix:\/\/\(\/tmp\/kubelet_remote_[0-9]*\.sock\)".*/\1/p' "$log")
}

# node_stop NAME: stop the kubelet, clean up after it, remove its folder.
node_stop() {
	stop "node-$1" TERM kubemark
	node_cleanup "$1"
	rm -rf "${NODES:?}/$1"
}

# nodes_forget NAME...: delete their Nodes and bootstrap token Secrets, in
# one request each (nothing to do when the API server is away).
nodes_forget() {
	(($#)) && apiserver_ready || return 0
	local IFS=,
	kubectl_admin delete node "$@" --ignore-not-found --wait=false >/dev/null 2>&1 || true
	kubectl_admin delete secret -n kube-system -l "csr-approver.test/join-node in ($*)" \
		--ignore-not-found --wait=false >/dev/null 2>&1 || true
}

# node_make_identity NAME: nodes/NAME/kubeconfig with a node client
# certificate from the cluster CA (CN=system:node:NAME, O=system:nodes).
node_make_identity() {
	local name=$1 dir=$NODES/$1
	[[ -s $dir/kubeconfig ]] && return 0
	mkdir -p "$dir"
	# pki_client_cert signs with DIR/ca.{crt,key}.
	ln -sf "$PKI/ca.crt" "$dir/ca.crt"
	ln -sf "$PKI/ca.key" "$dir/ca.key"
	pki_client_cert "$dir" client "system:node:$name" system:nodes
	rm -f "$dir/ca.crt" "$dir/ca.key"
	[[ -s $dir/client.crt ]] || die "could not make the client certificate of node $name"
	pki_kubeconfig "$dir/kubeconfig" "https://127.0.0.1:$APISERVER_PORT" "$PKI/ca.crt" \
		"$dir/client.crt" "$dir/client.key" "system:node:$name"
}

# nodes_ready SINCE NAME...: print the names among NAME... whose Node is
# Ready; a NAME written NAME@ (a kubelet started at SINCE, RFC 3339) only
# once its kubelet has reported since then, not on a Node its predecessor
# left Ready.
nodes_ready() {
	local since=$1
	shift
	api_get /api/v1/nodes | jq -r --arg since "$since" --args '
		($ARGS.positional | map({key: rtrimstr("@"), value: (if endswith("@") then $since else "" end)})
			| from_entries) as $want
		| .items[] | .metadata.name as $n | select($want[$n] != null)
		| select(any(.status.conditions[]?; .type == "Ready" and .status == "True"
			and .lastHeartbeatTime >= $want[$n]))
		| $n' "$@"
}

# nodes_wait_ready SINCE NAME...: wait until every Node is Ready (as for
# nodes_ready; each kubelet must keep running), then take away the
# not-ready taint the API server put on at registration, as the node
# lifecycle controller would (it does not run here), so that kube-scheduler
# places pods there.
nodes_wait_ready() {
	local since=$1 deadline=$((SECONDS + READY_TIMEOUT)) n ready=() missing
	shift
	while :; do
		mapfile -t ready < <(nodes_ready "$since" "$@")
		((${#ready[@]} == $#)) && break
		for n in "$@"; do
			if ! node_running "${n%@}"; then
				say "hollow node ${n%@} exited before its Node was Ready"
				log_tail "node-${n%@}"
				return 1
			fi
		done
		if ((SECONDS >= deadline)); then
			missing=$(comm -23 <(printf '%s\n' "${@%@}" | sort) <(printf '%s\n' "${ready[@]}" | sort) | tr '\n' ' ')
			say "timed out after ${READY_TIMEOUT}s waiting for these Nodes to be Ready: $missing"
			return 1
		fi
		sleep 0.5
	done
	while IFS= read -r n; do
		kubectl_admin taint node "$n" node.kubernetes.io/not-ready:NoSchedule- >/dev/null 2>&1 || true
	done < <(api_get /api/v1/nodes | jq -r --args '.items[] | .metadata.name as $n
		| select($ARGS.positional | index($n)) | select(any(.spec.taints[]?; .key == "node.kubernetes.io/not-ready"))
		| $n' "${@%@}")
}

# nodes_term NAME...: SIGTERM to each running kubelet at once, so that
# stopping many (node_stop each) does not wait for them one by one.
nodes_term() {
	local n
	for n in "$@"; do
		node_running "$n" && kill -TERM "$(<"$(pidfile "node-$n")")" 2>/dev/null
	done
	return 0
}

need_cluster() {
	healthy || die "the cluster is not up (run: hack/cluster.sh up)"
	[[ -x $BIN/kubemark && -x $BIN/kube-scheduler ]] || "$here/k8s-build.sh" >/dev/null
}

start_scheduler() {
	[[ -s $KCFG/kube-scheduler.kubeconfig ]] || {
		[[ -s $PKI/kube-scheduler.crt ]] || pki_client_cert "$PKI" kube-scheduler system:kube-scheduler
		pki_kubeconfig "$KCFG/kube-scheduler.kubeconfig" "https://127.0.0.1:$APISERVER_PORT" "$PKI/ca.crt" \
			"$PKI/kube-scheduler.crt" "$PKI/kube-scheduler.key" kube-scheduler
	}
	start kube-scheduler \
		--kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
		--authentication-kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
		--authorization-kubeconfig="$KCFG/kube-scheduler.kubeconfig" \
		--authentication-skip-lookup=true \
		--bind-address=127.0.0.1 \
		--secure-port="$SCHEDULER_PORT" \
		--cert-dir="$STATE/scheduler-certs" \
		--leader-elect=false \
		--profiling=false
}

scheduler_healthy() {
	[[ $(curl -ksS --max-time 2 "https://127.0.0.1:$SCHEDULER_PORT/healthz" 2>/dev/null) == ok ]]
}

ensure_scheduler() {
	if [[ -z ${SCHEDULER_PORT:-} ]]; then
		SCHEDULER_PORT=$(free_port "$ETCD_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" "$KCM_PORT")
		echo "SCHEDULER_PORT=$SCHEDULER_PORT" >>"$PORTS"
	fi
	running kube-scheduler || start_scheduler
	wait_for "kube-scheduler /healthz" kube-scheduler scheduler_healthy
}

# ---------------------------------------------------------------- commands

q() { printf '%q' "$1"; }

since() { # EPOCHREALTIME_START: seconds since, one decimal
	local now=${EPOCHREALTIME/./} start=${1/./}
	local ms=$(((now - start) / 1000))
	printf '%d.%ds' $((ms / 1000)) $((ms % 1000 / 100))
}

cmd_env() {
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	cat <<EOF
export KUBECONFIG=$(q "$KCFG/admin.kubeconfig")
case ":\$PATH:" in *:$(q "$BIN"):*) ;; *) export PATH=$(q "$BIN"):"\$PATH" ;; esac
export CSR_APPROVER_CLUSTER_DIR=$(q "$STATE")
export CSR_APPROVER_K8S_BIN=$(q "$BIN")
export CSR_APPROVER_APISERVER=$(q "https://127.0.0.1:$APISERVER_PORT")
export CSR_APPROVER_CA_CERT=$(q "$PKI/ca.crt")
export CSR_APPROVER_CA_KEY=$(q "$PKI/ca.key")
export CSR_APPROVER_ADMIN_KUBECONFIG=$(q "$KCFG/admin.kubeconfig")
export CSR_APPROVER_NODE_NAME=$(q "$NODE_NAME")
export CSR_APPROVER_NODE_KUBECONFIG=$(q "$KCFG/$NODE_NAME.kubeconfig")
export CSR_APPROVER_BOOTSTRAP_KUBECONFIG=$(q "$KCFG/bootstrap.kubeconfig")
export CSR_APPROVER_SA_ISSUER=$(q "$SA_ISSUER")
export CSR_APPROVER_ETCD_ENDPOINT=$(q "http://127.0.0.1:$ETCD_PORT")
export CSR_APPROVER_ETCDCTL=$(q "$BIN/etcdctl")
export CSR_APPROVER_AUDIT_LOG=$(q "$LOGS/audit.log")
EOF
}

healthy() {
	load_ports || return 1
	local c
	for c in "${COMPONENTS[@]}"; do
		running "$c" || return 1
	done
	apiserver_ready
}

cmd_up() {
	local t0=$SECONDS
	if healthy; then
		say "already up (${STATE})"
		cmd_env
		return 0
	fi
	"$here/k8s-build.sh" >/dev/null
	mkdir -p "$STATE" "$LOGS" "$PIDS"
	load_ports || pick_ports
	load_ports
	make_pki
	ensure_bootstrap_identity
	make_kubeconfigs
	local t=$EPOCHREALTIME times
	ensure_etcd
	times="etcd $(since "$t")"
	t=$EPOCHREALTIME
	ensure_apiserver
	times+=", kube-apiserver $(since "$t")"
	t=$EPOCHREALTIME
	apply_rbac || die "could not apply the RBAC bindings"
	ensure_kcm
	times+=", kube-controller-manager $(since "$t")"
	say "up in $((SECONDS - t0)) s ($times): https://127.0.0.1:$APISERVER_PORT (state: $STATE)"
	# shellcheck disable=SC2016 # printed for the user to run
	say 'use it with: eval "$(hack/cluster.sh env)"'
	cmd_env
}

cmd_down() {
	local c i n names=()
	load_ports || true
	mapfile -t names < <(node_names)
	if ((${#names[@]})); then
		say "stopping ${#names[@]} hollow node(s)"
		nodes_term "${names[@]}"
		for n in "${names[@]}"; do
			node_stop "$n"
		done
	fi
	if running kube-scheduler; then
		say "stopping kube-scheduler"
		stop kube-scheduler
	fi
	for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
		c=${COMPONENTS[i]}
		if running "$c"; then
			say "stopping $c"
			stop "$c"
		fi
	done
	# Refuse to delete anything that does not look like our state folder.
	if [[ -d $STATE ]]; then
		if [[ -f $PORTS || -d $PKI || -d $PIDS || -d $STATE/etcd ]] || [[ -z $(ls -A "$STATE") ]]; then
			rm -rf "$STATE"
		else
			die "$STATE does not look like a cluster state folder; not removing it"
		fi
	fi
	say "down"
}

cmd_status() {
	local c ok=0 r
	if ! load_ports; then
		say "no cluster in $STATE"
		return 1
	fi
	for c in "${COMPONENTS[@]}"; do
		if running "$c"; then
			printf '%-24s running (pid %s)\n' "$c" "$(<"$(pidfile "$c")")"
		else
			printf '%-24s stopped\n' "$c"
			ok=1
		fi
	done
	if running kube-scheduler; then
		printf '%-24s running (pid %s)\n' kube-scheduler "$(<"$(pidfile kube-scheduler)")"
	fi
	local n
	while IFS= read -r n; do
		if node_running "$n"; then
			printf '%-24s running (pid %s)\n' "node $n" "$(<"$(pidfile "node-$n")")"
		else
			printf '%-24s stopped\n' "node $n"
		fi
	done < <(node_names)
	r=$(curl -sS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null) || r=""
	case $r in
	ok) printf '%-24s ok\n' readyz ;;
	"") printf '%-24s unreachable\n' readyz ;;
	*) printf '%-24s not ready: %s\n' readyz "$(grep '^\[-\]' <<<"$r" | tr '\n' ' ')" ;;
	esac
	printf '%-24s %s\n' "apiserver" "https://127.0.0.1:$APISERVER_PORT"
	running kube-apiserver && printf '%-24s %s\n' "apiserver HTTP/2" "$(apiserver_http2)"
	[[ $r == ok ]] || ok=1
	return $ok
}

cmd_stop_apiserver() {
	load_ports || die "no cluster in $STATE"
	case "${1:-}" in
	--kill) stop kube-apiserver KILL ;;
	"") stop kube-apiserver ;;
	*) die "usage: hack/cluster.sh stop-apiserver [--kill]" ;;
	esac
	say "kube-apiserver stopped"
}

cmd_start_apiserver() {
	case "${1:-}" in
	--no-http2) APISERVER_HTTP2=off ;;
	"") APISERVER_HTTP2=on ;;
	*) die "usage: hack/cluster.sh start-apiserver [--no-http2]" ;;
	esac
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	running etcd || die "etcd is not running (run: hack/cluster.sh up)"
	# Started with the other HTTP/2 setting: restart it with this one.
	if running kube-apiserver && [[ $(apiserver_http2) != "$APISERVER_HTTP2" ]]; then
		stop kube-apiserver
	fi
	# A killed apiserver may hold its port for a moment while it exits.
	running kube-apiserver || port_wait_free "$APISERVER_PORT" ||
		die "port $APISERVER_PORT is taken by another process"
	local t0=$SECONDS
	ensure_apiserver
	ensure_kcm
	say "kube-apiserver ready in $((SECONDS - t0)) s (HTTP/2 $(apiserver_http2))"
}

cmd_restart_apiserver() {
	local a stop_args=() start_args=()
	for a in "$@"; do
		case $a in
		--kill) stop_args=(--kill) ;;
		--no-http2) start_args=(--no-http2) ;;
		*) die "usage: hack/cluster.sh restart-apiserver [--kill] [--no-http2]" ;;
		esac
	done
	cmd_stop_apiserver "${stop_args[@]}"
	cmd_start_apiserver "${start_args[@]}"
}

cmd_stop_etcd() {
	load_ports || die "no cluster in $STATE"
	case "${1:-}" in
	--kill) stop etcd KILL ;;
	"") stop etcd ;;
	*) die "usage: hack/cluster.sh stop-etcd [--kill]" ;;
	esac
	say "etcd stopped"
}

cmd_start_etcd() {
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	running etcd || port_wait_free "$ETCD_PORT" || die "port $ETCD_PORT is taken by another process"
	local t0=$SECONDS
	ensure_etcd
	running kube-apiserver && wait_for "kube-apiserver /readyz" kube-apiserver apiserver_ready
	say "etcd healthy in $((SECONDS - t0)) s"
}

# cmd_nodes N: exactly hollow-1..hollow-N running and Ready.
cmd_nodes() {
	local want=${1:-} n k limit
	[[ $want =~ ^[0-9]{1,4}$ ]] || die "usage: hack/cluster.sh nodes N   (N hollow kubelets; 0 stops them)"
	want=$((10#$want))
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	local gone=()
	while IFS= read -r n; do
		[[ $n =~ ^hollow-([1-9][0-9]*)$ ]] && ((BASH_REMATCH[1] > want)) && gone+=("$n")
	done < <(node_names)
	if ((${#gone[@]})); then
		say "stopping ${#gone[@]} hollow node(s)"
		nodes_term "${gone[@]}"
		for n in "${gone[@]}"; do
			node_stop "$n"
		done
		nodes_forget "${gone[@]}"
	fi
	if ((want == 0)); then
		running kube-scheduler && stop kube-scheduler
		say "no hollow nodes"
		return 0
	fi
	need_cluster
	limit=$(cat /proc/sys/fs/inotify/max_user_instances 2>/dev/null || echo 0)
	if ((limit > 0 && want > limit - 16)); then
		say "warning: $want kubelets may exhaust fs.inotify.max_user_instances ($limit);" \
			"raise it with: sysctl fs.inotify.max_user_instances=$((want * 4))"
	fi
	local t0=$SECONDS names=() taken=() port started=0 since
	since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	for ((k = 1; k <= want; k++)); do
		n=hollow-$k
		if node_running "$n"; then
			names+=("$n")
			continue
		fi
		names+=("$n@")
		node_cleanup "$n"
		node_make_identity "$n"
		port=$(free_port "${taken[@]}")
		taken+=("$port")
		node_start "$n" "$port"
		started=$((started + 1))
	done
	nodes_wait_ready "$since" "${names[@]}" || die "the hollow nodes did not all become Ready (logs: $LOGS/node-*.log)"
	say "$want hollow node(s) Ready ($started started in $((SECONDS - t0)) s)"
}

# cmd_join NAME [GROUP]: a hollow kubelet that joins with a fresh bootstrap
# token (extra group GROUP) through a kubelet-client CSR that someone (the
# approver under test) has to approve. Prints the token id on stdout at once;
# exits 0 once the Node is Ready, non-zero when the kubelet gave up (its CSR
# was denied) or READY_TIMEOUT passed (then it keeps waiting: leave NAME).
cmd_join() {
	local name=${1:-} group=${2:-$JOIN_GROUP}
	[[ $name =~ ^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$ ]] ||
		die "usage: hack/cluster.sh join NAME [GROUP]   (NAME a lower-case DNS name)"
	[[ $group =~ ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$ ]] ||
		die "GROUP must look like system:bootstrappers:NAME (lower case, digits, '-', ':'); got \"$group\""
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	need_cluster
	node_running "$name" && die "hollow node $name is running (hack/cluster.sh leave $name first)"
	if [[ -d $NODES/$name ]]; then
		node_stop "$name"
		nodes_forget "$name"
	fi
	# The bindings and bootstrap identity of a cluster made before this
	# version of the script.
	apply_rbac || die "could not apply the RBAC bindings"
	ensure_bootstrap_identity
	local id secret dir=$NODES/$name
	id=$(openssl rand -hex 3)
	secret=$(openssl rand -hex 8)
	mkdir -p "$dir"
	kubectl_admin create -f - >/dev/null <<EOF || die "could not create the bootstrap token Secret"
apiVersion: v1
kind: Secret
metadata:
  name: bootstrap-token-$id
  namespace: kube-system
  labels: {csr-approver.test/join-node: "$name"}
type: bootstrap.kubernetes.io/token
stringData:
  description: "hack/cluster.sh join $name"
  token-id: "$id"
  token-secret: "$secret"
  expiration: "$(date -u -d '+2 hours' +%Y-%m-%dT%H:%M:%SZ)"
  usage-bootstrap-authentication: "true"
  auth-extra-groups: "$group"
EOF
	(
		umask 077
		cat >"$dir/bootstrap.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: csr-approver
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $(pki_b64 "$PKI/ca.crt")
users:
- name: system:bootstrap:$id
  user:
    token: $id.$secret
contexts:
- name: bootstrap@csr-approver
  context:
    cluster: csr-approver
    user: system:bootstrap:$id
current-context: bootstrap@csr-approver
EOF
	)
	local since
	since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	node_start "$name" "$(free_port)" "$dir/bootstrap.kubeconfig"
	echo "$id"
	say "hollow node $name asks for its client certificate as system:bootstrap:$id ($group)"
	if ! nodes_wait_ready "$since" "$name@"; then
		node_running "$name" &&
			say "its kubelet keeps waiting for the CSR; stop it with: hack/cluster.sh leave $name"
		die "hollow node $name did not join"
	fi
	say "hollow node $name joined and is Ready"
}

# cmd_leave NAME: stop a hollow node, delete its Node and bootstrap token.
cmd_leave() {
	local name=${1:-}
	[[ -n $name ]] || die "usage: hack/cluster.sh leave NAME"
	load_ports || die "no cluster in $STATE"
	node_names | grep -qxF -- "$name" || die "no hollow node $name"
	node_stop "$name"
	nodes_forget "$name"
	say "hollow node $name is gone"
}

cmd_scheduler() {
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	case ${1:-start} in
	start)
		need_cluster
		ensure_scheduler
		say "kube-scheduler running"
		;;
	stop)
		stop kube-scheduler
		say "kube-scheduler stopped"
		;;
	*) die "usage: hack/cluster.sh scheduler [start|stop]" ;;
	esac
}

# One command at a time per state folder.
lock() {
	local key
	key=$(printf '%s' "$STATE" | cksum | cut -d' ' -f1)
	exec 8>"${TMPDIR:-/tmp}/csr-approver-cluster-$key.lock"
	if ! flock -n 8; then
		say "waiting for another hack/cluster.sh working on $STATE"
		flock -w 300 8 || die "another hack/cluster.sh holds the lock for $STATE"
	fi
}

main() {
	local cmd=${1:-}
	[[ $# -gt 0 ]] && shift
	case $cmd in
	up) lock && cmd_up ;;
	down) lock && cmd_down ;;
	env) cmd_env ;;
	status) cmd_status ;;
	stop-apiserver) lock && cmd_stop_apiserver "$@" ;;
	start-apiserver) lock && cmd_start_apiserver "$@" ;;
	restart-apiserver) lock && cmd_restart_apiserver "$@" ;;
	stop-etcd) lock && cmd_stop_etcd "$@" ;;
	start-etcd) lock && cmd_start_etcd ;;
	nodes) lock && cmd_nodes "$@" ;;
	join) lock && cmd_join "$@" ;;
	leave) lock && cmd_leave "$@" ;;
	scheduler) lock && cmd_scheduler "$@" ;;
	-h | --help | help)
		# The header: the comment lines from line 2 to the first other one.
		awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"
		;;
	*)
		echo "usage: hack/cluster.sh up|down|env|status|stop-apiserver [--kill]|start-apiserver [--no-http2]|restart-apiserver [--kill] [--no-http2]|stop-etcd [--kill]|start-etcd|nodes N|join NAME [GROUP]|leave NAME|scheduler [start|stop]" >&2
		exit 2
		;;
	esac
}

main "$@"
