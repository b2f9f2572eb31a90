#!/usr/bin/env bash
# The API client (pkg/kube) and the informer (pkg/watch) against the real
# control plane of hack/cluster.sh, through tests/integration/kube_driver.c
# (built here against build/libcsrapprover.a):
#
# - client certificates from kubeconfig data and from files named relative
#   to the kubeconfig; the cluster CA only (an unrelated CA fails TLS);
#   insecure-skip-tls-verify refused;
# - bearer tokens: `token:`, and `tokenFile:` re-read and retried once
#   after a 401;
# - an informer sees create/update/delete, paged LISTs hold every object,
#   field selectors narrow it, and its cache equals the server's;
# - 410 Gone: a watch from a resourceVersion compacted away in etcd relists
#   and the cache is right; a continue token expired by compaction restarts
#   the LIST from the start (on Events, which the API server serves from
#   etcd rather than from its watch cache).
#
# Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed".
set -euo pipefail

# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_setup watch

ns=$IT_NS
tmp=$T_TMP
drv=$tmp/kube_driver
admin=$CSR_APPROVER_ADMIN_KUBECONFIG
cms=/api/v1/namespaces/$ns/configmaps
evs=/api/v1/namespaces/$ns/events

# --- build the driver ---------------------------------------------------------
build_driver() {
	local cflags libs
	make -s -C "$T_ROOT" build/libcsrapprover.a || return 1
	read -r -a cflags <<<"$(pkg-config --cflags libcurl jansson)"
	read -r -a libs <<<"$(make -s -C "$T_ROOT" --no-print-directory print-libs)"
	cc -std=c11 -Wall -Wextra -Werror -O1 -g -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
		"${cflags[@]}" -o "$drv" "$T_ROOT/tests/integration/kube_driver.c" \
		"$T_ROOT/build/libcsrapprover.a" "${libs[@]}"
}
if out=$(build_driver 2>&1); then
	t_ok "kube_driver built against build/libcsrapprover.a"
else
	t_abort "kube_driver built against build/libcsrapprover.a" "$out"
fi

# The server's view of the test namespace: "NS/NAME RV" lines.
server_list() { # RESOURCE
	kubectl get "$1" -n "$ns" -o json |
		jq -r '.items[] | "\(.metadata.namespace)/\(.metadata.name) \(.metadata.resourceVersion)"' |
		sort
}
# Create an Event in the test namespace; prints its resourceVersion.
event_create() { # NAME
	kubectl create -n "$ns" -o jsonpath='{.metadata.resourceVersion}' -f - <<EOF
apiVersion: v1
kind: Event
metadata: {name: $1}
involvedObject: {kind: Namespace, name: $ns, namespace: $ns}
reason: Test
message: watch test
type: Normal
EOF
}
# The driver's cache from its output file.
driver_cache() { sed -n 's/^cache //p' "$1" | sort; }
stat_of() { sed -n "s/^stats .*$2=\\([^ ]*\\).*/\\1/p" "$1"; }
etcd_revision() {
	"$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" endpoint status -w json |
		jq -r '.[0].Status.header.revision'
}
etcd_compact() {
	"$CSR_APPROVER_ETCDCTL" --endpoints="$CSR_APPROVER_ETCD_ENDPOINT" compact "$(etcd_revision)" >/dev/null
}
# start_watch NAME ARGS...: an informer in the background, output in $tmp/NAME.out
start_watch() {
	local name=$1
	shift
	rm -f "$tmp/$name.stop"
	"$drv" --kubeconfig "$admin" watch "$@" --stop-file "$tmp/$name.stop" --max-seconds 90 \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	echo $! >"$tmp/$name.pid"
}
stop_watch() {
	local name=$1
	touch "$tmp/$name.stop"
	wait "$(<"$tmp/$name.pid")" || true
}
has_line() { grep -qE "$2" "$tmp/$1.out" 2>/dev/null; }

# --- TLS and client certificates ------------------------------------------------
out=$("$drv" --kubeconfig "$admin" get /version 2>"$tmp/version.err" || true)
ver=$(sed -n '2,$p' <<<"$out" | jq -r .gitVersion 2>/dev/null || true)
if [[ $(head -n1 <<<"$out") == "status 200" && $ver == "$CSR_APPROVER_K8S_VERSION"* ]]; then
	t_ok "GET /version with the client certificate from kubeconfig data ($ver)"
else
	t_fail "GET /version with the client certificate from kubeconfig data" "$out$(cat "$tmp/version.err")"
fi

t_eq "SelfSubjectReview as admin (certificate and key passed as blobs)" \
	"user csr-approver-admin" "$("$drv" --kubeconfig "$admin" whoami 2>/dev/null || true)"

# The same identity from files named relative to the kubeconfig's folder.
mkdir -p "$tmp/kc/pki"
for f in certificate-authority-data:ca.crt client-certificate-data:admin.crt client-key-data:admin.key; do
	key=${f%%:*}
	kubectl config view --raw --kubeconfig "$admin" -o json |
		jq -r "[.clusters[0].cluster, .users[0].user] | map(.\"$key\" // empty) | .[0]" |
		base64 -d >"$tmp/kc/pki/${f#*:}"
done
cat >"$tmp/kc/config" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $CSR_APPROVER_APISERVER
    certificate-authority: pki/ca.crt
users:
- name: admin
  user:
    client-certificate: pki/admin.crt
    client-key: pki/admin.key
contexts:
- name: admin
  context: {cluster: local, user: admin}
current-context: admin
EOF
t_eq "client certificate and CA from files relative to the kubeconfig" \
	"user csr-approver-admin" "$(cd / && { "$drv" --kubeconfig "$tmp/kc/config" whoami 2>/dev/null || true; })"

# An unrelated CA: verification fails (the system store is not consulted either).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=unrelated-ca \
	-days 1 -keyout "$tmp/other-ca.key" -out "$tmp/kc/pki/other-ca.crt" >/dev/null 2>&1
sed 's#pki/ca.crt#pki/other-ca.crt#' "$tmp/kc/config" >"$tmp/kc/other-ca"
out=$("$drv" --kubeconfig "$tmp/kc/other-ca" get /version 2>&1 || true)
# No HTTP answer: status 0, and the attempt is counted with code 0.
if grep -qx 'status 0' <<<"$out" && grep -qx 'observe GET version 0' <<<"$out" &&
	grep -qiE 'certificate|SSL' <<<"$out"; then
	t_ok "a server certificate from another CA is refused (and counted as code 0)"
else
	t_fail "a server certificate from another CA is refused (and counted as code 0)" "$out"
fi

sed 's#certificate-authority: pki/ca.crt#insecure-skip-tls-verify: true#' "$tmp/kc/config" >"$tmp/kc/insecure"
set +e
out=$("$drv" --kubeconfig "$tmp/kc/insecure" get /version 2>&1)
rc=$?
set -e
if [[ $rc == 2 && $out == *"clusters[local].cluster.insecure-skip-tls-verify: refused"* ]]; then
	t_ok "insecure-skip-tls-verify is refused, naming the file and key"
else
	t_fail "insecure-skip-tls-verify is refused, naming the file and key" "rc=$rc $out"
fi

# --- bearer tokens ----------------------------------------------------------------
k8s_sa_create "$ns" driver >/dev/null
token=$(kubectl create token driver -n "$ns" --duration=10m)
k8s_token_kubeconfig "$token" "$tmp/token.kubeconfig"
t_eq "bearer token from kubeconfig token:" \
	"user system:serviceaccount:$ns:driver" \
	"$("$drv" --kubeconfig "$tmp/token.kubeconfig" whoami 2>/dev/null || true)"

# tokenFile: first holds a token the server rejects (the first request fails
# after its one retry); then the right token is written, and the next request
# on the same client, whose token is not a minute old, gets a 401, re-reads
# the file and succeeds on its retry.
echo "not-a-valid-token" >"$tmp/kc/token"
sed -e 's#client-certificate: pki/admin.crt#tokenFile: token#' -e '/client-key:/d' \
	"$tmp/kc/config" >"$tmp/kc/tokenfile"
"$drv" --kubeconfig "$tmp/kc/tokenfile" whoami --again-after-file "$tmp/kc/go" \
	>"$tmp/tokenfile.out" 2>"$tmp/tokenfile.err" &
pid=$!
k8s_wait 20 grep -q '^status' "$tmp/tokenfile.out" || true
printf '%s\n' "$token" >"$tmp/kc/token.new"
mv "$tmp/kc/token.new" "$tmp/kc/token"
touch "$tmp/kc/go"
wait $pid || true
t_eq "tokenFile: a 401 re-reads the file and retries once" \
	"status 401,user system:serviceaccount:$ns:driver" "$(paste -sd, "$tmp/tokenfile.out")"
t_eq "the observer saw each attempt: 401 and its retry, then 401 and the retry that worked" \
	"observe POST selfsubjectreviews 401,observe POST selfsubjectreviews 401,observe POST selfsubjectreviews 401,observe POST selfsubjectreviews 201" \
	"$(grep '^observe' "$tmp/tokenfile.err" | paste -sd, -)"
if grep -qF -e "not-a-valid-token" -e "$token" "$tmp/tokenfile.err"; then
	t_fail "no token in the logs" "$(cat "$tmp/tokenfile.err")"
else
	t_ok "no token in the logs"
fi

# --- informer: create, update, delete -------------------------------------------------
# The root CA publisher adds kube-root-ca.crt to each namespace: wait for it so
# that the namespace is still while the caches are compared.
k8s_wait 30 kubectl get configmap kube-root-ca.crt -n "$ns" >/dev/null 2>&1 || true
kubectl create configmap a -n "$ns" --from-literal=k=1 >/dev/null
kubectl create configmap b -n "$ns" --from-literal=k=1 >/dev/null
start_watch crud "$cms"
if k8s_wait 20 has_line crud '^list-end'; then
	t_ok "informer LIST completes"
else
	t_fail "informer LIST completes" "$(cat "$tmp/crud.out" "$tmp/crud.err")"
fi
kubectl create configmap c -n "$ns" --from-literal=k=1 >/dev/null
kubectl patch configmap a -n "$ns" -p '{"data":{"k":"2"}}' >/dev/null
kubectl delete configmap b -n "$ns" >/dev/null
for want in "ADDED $ns/c" "MODIFIED $ns/a" "DELETED $ns/b"; do
	if k8s_wait 20 has_line crud "^event $want "; then
		t_ok "informer saw $want"
	else
		t_fail "informer saw $want" "$(cat "$tmp/crud.out")"
	fi
done
stop_watch crud
t_eq "informer cache equals the server after the events" \
	"$(server_list configmaps)" "$(driver_cache "$tmp/crud.out")"
t_eq "no restarts on a quiet watch" "0" "$(stat_of "$tmp/crud.out" restarts)"

# --- paged LIST -----------------------------------------------------------------------
for i in 1 2 3 4 5; do
	kubectl create configmap "page-$i" -n "$ns" --from-literal=k="$i" >/dev/null
done
start_watch paged "$cms" --page-size 2
k8s_wait 20 has_line paged '^list-end' || true
stop_watch paged
t_eq "a LIST in pages of 2 holds every object" \
	"$(server_list configmaps | cut -d' ' -f1)" \
	"$(sed -n 's/^list-item \([^ ]*\) .*/\1/p' "$tmp/paged.out" | sort)"
t_eq "paged informer cache equals the server" \
	"$(server_list configmaps)" "$(driver_cache "$tmp/paged.out")"

# --- field selector ---------------------------------------------------------------------
start_watch fsel "$cms" --field-selector "metadata.name=page-3"
k8s_wait 20 has_line fsel '^list-end' || true
stop_watch fsel
t_eq "field selector (escaped) narrows the LIST" "$ns/page-3" \
	"$(driver_cache "$tmp/fsel.out" | cut -d' ' -f1)"

# --- 410 Gone: a watch from a compacted resourceVersion --------------------------------
# Events are served from etcd (the API server keeps no watch cache for them),
# so compacting etcd expires their old resourceVersions and continue tokens.
old_rv=$(event_create gone-1)
event_create gone-2 >/dev/null
event_create gone-3 >/dev/null
if out=$(etcd_compact 2>&1); then
	t_ok "etcd compacted past resourceVersion $old_rv"
else
	t_fail "etcd compacted past resourceVersion $old_rv" "$out"
fi
start_watch gone "$evs" --from-rv "$old_rv"
k8s_wait 30 has_line gone '^list-end' || true
event_create after-relist >/dev/null
k8s_wait 20 has_line gone "^event ADDED $ns/after-relist " || true
stop_watch gone
relists=$(stat_of "$tmp/gone.out" relists)
if [[ ${relists:-0} -ge 1 ]] && has_line gone '^list-end'; then
	t_ok "a watch from a compacted resourceVersion relists (relists=$relists)"
else
	t_fail "a watch from a compacted resourceVersion relists" "$(cat "$tmp/gone.out" "$tmp/gone.err")"
fi
t_eq "cache after the relist equals the server" \
	"$(server_list events)" "$(driver_cache "$tmp/gone.out")"
if grep -q 'msg="watch restarting".*410' "$tmp/gone.err"; then
	t_ok "the restart is logged with its reason"
else
	t_fail "the restart is logged with its reason" "$(cat "$tmp/gone.err")"
fi

# --- 410 Gone: a continue token expired by compaction ----------------------------------
# The informer asks for page n+1 before it hands over the items of page n,
# so the pause in page 1 comes after page 2 was asked for: the token that
# expires is page 2's, which needs a third page (at least 5 events).
event_create pad-1 >/dev/null
event_create pad-2 >/dev/null
start_watch cont "$evs" --page-size 2 --pause-after-items 2 --pause-file "$tmp/cont.resume"
if k8s_wait 20 has_line cont '^paused'; then
	event_create during-list >/dev/null
	etcd_compact
	touch "$tmp/cont.resume"
fi
k8s_wait 30 has_line cont '^list-end' || true
k8s_wait 20 has_line cont "^(list-item|event ADDED) $ns/during-list " || true
stop_watch cont
begins=$(grep -c '^list-begin' "$tmp/cont.out" || true)
if [[ $begins -ge 2 && $(stat_of "$tmp/cont.out" relists) -ge 1 ]] && has_line cont '^list-end'; then
	t_ok "an expired continue token restarts the LIST from the start"
else
	t_fail "an expired continue token restarts the LIST from the start" \
		"$(cat "$tmp/cont.out" "$tmp/cont.err")"
fi
t_eq "cache after the restarted LIST equals the server" \
	"$(server_list events)" "$(driver_cache "$tmp/cont.out")"

t_done
