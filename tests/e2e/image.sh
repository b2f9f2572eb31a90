#!/usr/bin/env bash
# The container image of `make image`, run as a real container against the
# local control plane, with no daemon:
#   - the OCI layout carries the version as its ref; the config runs
#     /usr/local/bin/csr-approver run as 65532:65532 and carries the OCI
#     labels; the root filesystem has the CA store, the 65532 user and no
#     shell; the docker-archive holds the same image;
#   - unpacked with umoci and run with runc as the chart's securityContext
#     says (read-only root filesystem, no capabilities, no new privileges,
#     user 65532, the default seccomp profile), in the host's network
#     namespace so it reaches the loopback API server, with only the
#     chart's RBAC (a ServiceAccount token) and a policy file mounted
#     read-only: it approves a kubelet-serving CSR, /readyz answers 200,
#     and SIGTERM ends it with exit status 0.
# Needs root (runc creates the namespaces and cgroup) and the packages of
# hack/deps.sh (umoci, skopeo, runc); without root it says so and skips.
#
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1
t_tmp
T=$T_TMP

if [[ $(id -u) -ne 0 ]]; then
	t_skip "the image run as a container" "runc needs root here (uid $(id -u))"
	t_done
fi
for tool in umoci skopeo runc jq; do
	command -v "$tool" >/dev/null || t_abort "$tool is installed" "run hack/deps.sh"
done

# The image of this tree (make rebuilds the binary if a source changed).
make -s image >"$T/make.log" 2>&1 || t_abort "make image" "$(tail -n 20 "$T/make.log")"
layout=build/image/layout
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$layout/index.json")
t_eq "the layout's ref is the version make computes" "$(make -s --no-print-directory print-version)" "$tag"
grep '^image:' "$T/make.log" | sed 's/^/# /'

# ------------------------------------------------------------------ the image

blob() { # DIGEST
	cat "$layout/blobs/sha256/${1#sha256:}"
}
manifest=$(blob "$(jq -r '.manifests[0].digest' "$layout/index.json")")
config=$(blob "$(jq -r '.config.digest' <<<"$manifest")")
t_eq "config: user, entrypoint, command" \
	'"65532:65532" ["/usr/local/bin/csr-approver"] ["run"]' \
	"$(jq -c '.config.User, .config.Entrypoint, .config.Cmd' <<<"$config" | paste -sd' ')"
t_eq "config: the OCI labels, none empty" \
	"created description licenses revision source title version" \
	"$(jq -r '.config.Labels | to_entries[] | select(.key | startswith("org.opencontainers.image."))
		| select(.value != "") | .key | ltrimstr("org.opencontainers.image.")' <<<"$config" | sort | paste -sd' ')"
t_eq "config: the version label is the tag" "$tag" \
	"$(jq -r '.config.Labels["org.opencontainers.image.version"]' <<<"$config")"
t_eq "the docker-archive holds the same config" "$(jq -r .config.digest <<<"$manifest")" \
	"$(skopeo --insecure-policy inspect --raw "docker-archive:build/image/csr-approver-$tag.tar" 2>&1 |
		jq -r .config.digest 2>&1)"

bundle=$T/bundle
if ! umoci unpack --image "$layout:$tag" "$bundle" >"$T/umoci.log" 2>&1; then
	t_abort "umoci unpacks the image" "$(tail -n 10 "$T/umoci.log")"
fi
rootfs=$bundle/rootfs
t_check "the root filesystem has the CA store" test -s "$rootfs/etc/ssl/certs/ca-certificates.crt"
t_eq "passwd names 65532" "nonroot:x:65532:65532" "$(grep :65532: "$rootfs/etc/passwd" | cut -d: -f1-4)"
t_eq "no shell, no other program" "/usr/local/bin/csr-approver" \
	"$(cd "$rootfs" && find . -type f -perm -u+x ! -name '*.so*' | sed 's/^\.//' | sort | paste -sd' ')"
t_eq "owned by root: the user 65532 cannot change a file of it" "" \
	"$(find "$rootfs" ! -uid 0 -o ! -gid 0 | head -n 3)"

# ------------------------------------------------------------------ run it

t_cluster
run_id=$(date +%s)-$$
rel=e2e-image-$run_id
ns=""
e2e_ns ns e2e-image || t_abort "create a namespace"
cfg=$T/cfg
mkdir -p "$cfg"
if chart_rbac "$ns" "$rel" && sa_kubeconfig "$ns" "$rel" "$cfg/kubeconfig"; then
	t_ok "the chart's RBAC applied and a token minted for its ServiceAccount"
else
	t_abort "the chart's RBAC applied and a token minted for its ServiceAccount"
fi
cat >"$cfg/policy.yaml" <<'EOF'
policies:
  - name: kubelet-serving
    signerName: kubernetes.io/kubelet-serving
    type: kubelet-serving
EOF
# Read by 65532 through the read-only mount, as the kubelet projects them.
chmod 0755 "$cfg"
chmod 0644 "$cfg/kubeconfig" "$cfg/policy.yaml"

# seccompProfile RuntimeDefault: the default profile of the container
# tools (containers-common's, as podman applies it), for amd64 and a
# process with no capabilities, in the runtime spec's form.
profile=/usr/share/containers/seccomp.json
[[ -s $profile ]] || t_abort "the default seccomp profile" "$profile is missing (golang-github-containers-common)"
jq '{defaultAction, defaultErrnoRet, architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
	syscalls: [.syscalls[]
		| select((.includes.caps // []) == [])
		| select((.includes.arches // ["amd64"]) | index("amd64"))
		| select((.excludes.arches // []) | index("amd64") | not)
		| {names, action} + (if .errnoRet then {errnoRet} else {} end)
			+ (if .args then {args} else {} end)]}' "$profile" >"$T/seccomp.json" ||
	t_abort "the default seccomp profile converts"
t_check "the seccomp profile denies by default and allows read" \
	jq -e '.defaultAction == "SCMP_ACT_ERRNO" and any(.syscalls[]; .action == "SCMP_ACT_ALLOW" and (.names | index("read")))' \
	"$T/seccomp.json"

mport=$(t_port) && pport=$(t_port "$mport") || t_abort "free loopback ports"
# The runtime spec: umoci's, from the image config, then the chart's
# securityContext (runAsNonRoot, runAsUser 65532, readOnlyRootFilesystem,
# allowPrivilegeEscalation false, capabilities drop ALL, seccompProfile
# RuntimeDefault) and the pod's
# mounts. The network namespace is the host's: the API server listens on
# the loopback.
if ! jq --slurpfile seccomp "$T/seccomp.json" --arg cfg "$cfg" --arg m "127.0.0.1:$mport" --arg p "127.0.0.1:$pport" '
	.process.terminal = false
	| .process.user = {uid: 65532, gid: 65532}
	| .process.args += ["--kubeconfig=/etc/csr-approver/kubeconfig", "--config=/etc/csr-approver/policy.yaml",
		"--metrics-bind-address=" + $m, "--health-probe-bind-address=" + $p, "--log-format=text"]
	| .process.capabilities = {bounding: [], effective: [], inheritable: [], permitted: [], ambient: []}
	| .process.noNewPrivileges = true
	| .root.readonly = true
	| .linux.seccomp = $seccomp[0]
	| .linux.namespaces |= map(select(.type != "network"))
	| .mounts += [{destination: "/etc/csr-approver", type: "bind", source: $cfg,
		options: ["rbind", "ro", "nosuid", "nodev", "noexec"]}]' \
	"$bundle/config.json" >"$T/config.json"; then
	t_abort "the runtime spec"
fi
mv "$T/config.json" "$bundle/config.json"
t_eq "the container runs csr-approver run" "/usr/local/bin/csr-approver run" \
	"$(jq -r '.process.args[:2] | join(" ")' "$bundle/config.json")"

id=csr-approver-e2e-$$
# runc in the foreground (in the background of this shell): it forwards
# signals and exits with the container's status.
runc run --bundle "$bundle" "$id" </dev/null >"$T/run.log" 2>&1 &
rpid=$!
t_on_exit runc delete --force "$id"

# The container's process, once runc has started it.
cpid=""
container_pid() {
	cpid=$(runc state "$id" 2>/dev/null | jq -r 'select(.status == "running") | .pid')
	[[ -n $cpid && $cpid != 0 ]]
}
if ! k8s_wait 20 container_pid; then
	wait "$rpid"
	rc=$?
	why=$(tail -n 20 "$T/run.log")
	if grep -qiE 'cgroup|namespace|operation not permitted|pivot_root' "$T/run.log"; then
		t_skip "the image run as a container" "runc cannot run here (exit $rc): $why"
		t_done
	fi
	t_abort "runc starts the container" "exit $rc: $why"
fi
t_ok "runc started the container (pid $cpid)"

status=$(cat "/proc/$cpid/status")
t_eq "it runs as 65532:65532" "65532 65532" \
	"$(awk '$1 == "Uid:" {u = $2} $1 == "Gid:" {g = $2} END {print u, g}' <<<"$status")"
t_eq "with no capabilities at all" "0000000000000000 0000000000000000 0000000000000000" \
	"$(awk '$1 ~ /^Cap(Eff|Prm|Bnd):$/ {print $2}' <<<"$status" | paste -sd' ')"
t_eq "and no new privileges" "1" "$(awk '$1 == "NoNewPrivs:" {print $2}' <<<"$status")"
t_eq "under a seccomp filter" "2" "$(awk '$1 == "Seccomp:" {print $2}' <<<"$status")"
t_eq "its root filesystem is read-only" "ro" \
	"$(awk '$5 == "/" {split($6, o, ","); print o[1]}' "/proc/$cpid/mountinfo")"

ready() {
	[[ $(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$pport/readyz") == 200 ]]
}
if k8s_wait 30 ready; then
	t_ok "/readyz on the probe port answers 200"
else
	t_fail "/readyz on the probe port answers 200" "$(tail -n 20 "$T/run.log")"
fi

# A kubelet-serving CSR from the node, for the node's own names: approved.
node=${CSR_APPROVER_NODE_NAME:-node-0}
k8s_node_create "$node" InternalIP=10.1.0.5 "Hostname=$node" >/dev/null
k8s_gen_csr "$T/node.key" "$T/node.csr" "/O=system:nodes/CN=system:node:$node" "DNS:$node,IP:10.1.0.5" >/dev/null 2>&1
csr=$rel-node
t_on_exit kubectl delete csr "$csr" --ignore-not-found
KUBECONFIG=$CSR_APPROVER_NODE_KUBECONFIG k8s_csr_create "$csr" kubernetes.io/kubelet-serving \
	"$T/node.csr" "digital signature,server auth" >/dev/null
t_eq "a kubelet-serving CSR is approved" "Approved:AutoApproved" "$(k8s_csr_wait_condition "$csr" 30)"
t_check "by the container (its log names the CSR)" grep -q "$csr" "$T/run.log"

runc kill "$id" TERM
wait "$rpid"
t_eq "SIGTERM: the container exits 0" 0 "$?"
if grep -qiE 'permission denied|read-only file system' "$T/run.log"; then
	t_fail "nothing was refused to it" "$(grep -iE 'permission denied|read-only file system' "$T/run.log" | head -n 5)"
else
	t_ok "nothing was refused to it"
fi
runc delete "$id" >/dev/null 2>&1
t_eq "runc delete removed it" "" "$(runc list -q 2>/dev/null | grep -xF "$id")"

t_done
