#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for csr-approver's tests, demo
# and benchmarks: etcd, kube-apiserver and kube-controller-manager, built by
# hack/k8s-build.sh, running as plain processes (no containers, no kubelet).
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
#   start-apiserver    start it again, same port, same etcd data; wait ready
#                      (kube-controller-manager is restarted with it, so it
#                      works at once instead of after client-go's backoff)
#   restart-apiserver  stop-apiserver then start-apiserver
#
# State (PKI, kubeconfigs, etcd data, logs/, pids/) lives in
# $CSR_APPROVER_CLUSTER_DIR, default .cluster/ at the repository root.
#
# What the cluster looks like:
#   - authorization Node,RBAC; admission defaults plus NodeRestriction;
#     ServiceAccount admission on (the controller manager makes the
#     "default" ServiceAccount of each namespace).
#   - kube-controller-manager runs the CSR signing and cleaner controllers,
#     the service-account, service-account-token, root-CA publisher,
#     namespace and garbage-collector controllers, and NOT the CSR approving
#     controller: csr-approver is the only approver. Nor the pod GC or node
#     lifecycle controllers, so pods on nodes without a kubelet stay put.
#   - identities (client certificates from the cluster CA, one kubeconfig each):
#       admin      CN=csr-approver-admin, O=system:masters
#       node-0     CN=system:node:node-0, O=system:nodes
#       bootstrap  CN=system:bootstrap:abcdef, O=system:bootstrappers
#   - ClusterRoleBindings as kubeadm makes them: system:bootstrappers may
#     create CSRs (system:node-bootstrapper) and request node client
#     certificates (...:nodeclient); system:nodes may renew their own
#     (...:selfnodeclient).
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

READY_TIMEOUT=${CSR_APPROVER_CLUSTER_TIMEOUT:-90}
STOP_TIMEOUT=10
SA_ISSUER=https://kubernetes.default.svc.cluster.local
NODE_NAME=node-0
COMPONENTS=(etcd kube-apiserver kube-controller-manager)

say() { echo "cluster: $*" >&2; }
die() {
	say "error: $*"
	exit 1
}

# ---------------------------------------------------------------- processes

pidfile() { echo "$PIDS/$1.pid"; }

# running NAME: the component's pid file names a live process of that binary.
running() {
	local f pid
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	pid=$(<"$f")
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	# Guard against a recycled pid: the process must be this component,
	# started with this state folder.
	local argv=()
	[[ -r /proc/$pid/cmdline ]] || return 1
	mapfile -d '' -t argv 2>/dev/null <"/proc/$pid/cmdline" || return 1
	[[ ${#argv[@]} -gt 0 && ${argv[0]##*/} == "$1" && " ${argv[*]}" == *"=$STATE/"* ]]
}

# start NAME ARGS...: start a component in its own session, detached.
start() {
	local name=$1 pid
	shift
	mkdir -p "$LOGS" "$PIDS"
	[[ -x $BIN/$name ]] || die "$BIN/$name is missing; run hack/k8s-build.sh"
	echo "=== $(date -u +%Y-%m-%dT%H:%M:%SZ) start $name" >>"$LOGS/$name.log"
	# No job control here, so the subshell is not a group leader and setsid
	# execs in place: $! is the component's own pid.
	# fd 8 is the command lock (see lock()): the component must not keep it.
	(exec setsid "$BIN/$name" "$@" </dev/null >>"$LOGS/$name.log" 2>&1 8>&-) &
	pid=$!
	echo "$pid" >"$(pidfile "$name")"
}

# stop NAME [SIGNAL]: stop a component by its pid file; TERM (or SIGNAL),
# then KILL after STOP_TIMEOUT seconds.
stop() {
	local name=$1 sig=${2:-TERM} f pid i
	f=$(pidfile "$name")
	if running "$name"; then
		pid=$(<"$f")
		kill "-$sig" "$pid" 2>/dev/null || true
		for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
			running "$name" || break
			sleep 0.1
		done
		if running "$name"; then
			say "$name (pid $pid) did not stop within ${STOP_TIMEOUT}s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
			for ((i = 0; i < 50; i++)); do
				running "$name" || break
				sleep 0.1
			done
		fi
		running "$name" && die "could not stop $name (pid $pid)"
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
	pki_client_cert "$PKI" bootstrap system:bootstrap:abcdef system:bootstrappers
	pki_client_cert "$PKI" kube-controller-manager system:kube-controller-manager
	touch "$PKI/.complete"
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

start_apiserver() {
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
		--enable-admission-plugins=NodeRestriction \
		--service-account-issuer="$SA_ISSUER" \
		--api-audiences="$SA_ISSUER" \
		--service-account-key-file="$PKI/sa.pub" \
		--service-account-signing-key-file="$PKI/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		--allow-privileged=true \
		--shutdown-send-retry-after=true \
		--profiling=false \
		--cert-dir="$STATE/apiserver-certs"
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
			log_tail "$comp"
			die "$comp exited while waiting for $what"
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
	running kube-controller-manager || start_kcm
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
  name: system:bootstrappers
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
	local c i
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
	r=$(curl -sS --max-time 5 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
		"https://127.0.0.1:$APISERVER_PORT/readyz" 2>/dev/null) || r=""
	case $r in
	ok) printf '%-24s ok\n' readyz ;;
	"") printf '%-24s unreachable\n' readyz ;;
	*) printf '%-24s not ready: %s\n' readyz "$(grep '^\[-\]' <<<"$r" | tr '\n' ' ')" ;;
	esac
	printf '%-24s %s\n' "apiserver" "https://127.0.0.1:$APISERVER_PORT"
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
	load_ports || die "no cluster in $STATE (run: hack/cluster.sh up)"
	running etcd || die "etcd is not running (run: hack/cluster.sh up)"
	# A killed apiserver may hold its port for a moment while it exits.
	running kube-apiserver || port_wait_free "$APISERVER_PORT" ||
		die "port $APISERVER_PORT is taken by another process"
	local t0=$SECONDS
	ensure_apiserver
	ensure_kcm
	say "kube-apiserver ready in $((SECONDS - t0)) s"
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
	start-apiserver) lock && cmd_start_apiserver ;;
	restart-apiserver) lock && cmd_stop_apiserver "$@" && cmd_start_apiserver ;;
	-h | --help | help)
		sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'
		;;
	*)
		echo "usage: hack/cluster.sh up|down|env|status|stop-apiserver [--kill]|start-apiserver|restart-apiserver" >&2
		exit 2
		;;
	esac
}

main "$@"
