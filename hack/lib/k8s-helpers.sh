# shellcheck shell=bash
# Helpers for csr-approver's integration tests, demo and benchmarks on the
# loopback cluster of hack/cluster.sh. Source this file after
#   eval "$(hack/cluster.sh env)"
# kubectl then talks to the cluster as admin (KUBECONFIG); to act as another
# identity set KUBECONFIG for one command, e.g.
#   KUBECONFIG=$CSR_APPROVER_NODE_KUBECONFIG k8s_csr_create ...
# No kubelet runs unless asked for (hack/cluster.sh nodes N: hollow nodes
# hollow-1..N, real kubelets with a fake runtime): pods on other node names
# never run by themselves, the helpers below give them the status a kubelet
# would.
#
# Namespaces, service accounts
#   k8s_ns_create NS                          create NS (if missing), wait for its
#                                             "default" ServiceAccount
#   k8s_sa_wait NS [SA] [TIMEOUT_S]           wait until the ServiceAccount exists (60 s)
#   k8s_sa_create NS SA                       create a ServiceAccount (if missing)
# Pods and nodes
#   k8s_pod_create NS NAME [opts]             create a Pod; prints its uid. opts:
#       -s SA            spec.serviceAccountName
#       -n NODE          spec.nodeName (the node object need not exist)
#       -l KEY=VALUE     a label (repeatable)
#       -H HOSTNAME      spec.hostname     -d SUBDOMAIN  spec.subdomain
#   k8s_pod_set_status NS NAME PHASE [IP]...  set status.phase, podIP and
#                                             podIPs (first IP is podIP)
#   k8s_pod_run NS NAME IP [opts]             k8s_pod_create + Running with IP
#                                             (IP may be "v4,v6"); prints uid
#   k8s_uid KIND NAME [NS]                    metadata.uid of an object
#   k8s_node_create NAME [TYPE=ADDR]...       create a Node (if missing) and set
#                                             status.addresses, e.g. InternalIP=10.1.0.5
#                                             Hostname=node-1; prints its uid
# Credentials
#   k8s_token NS SA [POD] [DURATION]          a ServiceAccount token (default 1h),
#                                             bound to POD (by name and uid) if given
#   k8s_token_kubeconfig TOKEN OUT            a kubeconfig that uses only TOKEN
#   k8s_client_kubeconfig OUT CN [O]...       a client certificate from the cluster
#                                             CA for any identity, as a kubeconfig
# Certificate requests
#   k8s_gen_csr KEY_OUT CSR_OUT SUBJ [SAN] [KEYTYPE]
#                                             key + PEM CSR with openssl; SUBJ like
#                                             "/O=system:nodes/CN=system:node:node-0",
#                                             SAN like "DNS:a.b,IP:10.0.0.7,URI:spiffe://..."
#                                             ("" for none); KEYTYPE ec-p256 (default),
#                                             ec-p384, ed25519, rsa-2048, rsa-3072, rsa-4096
#   k8s_csr_create NAME SIGNER CSR_FILE USAGES [EXPIRATION_S] [LABEL=VALUE]...
#                                             create a CertificateSigningRequest as the
#                                             current KUBECONFIG; USAGES comma separated,
#                                             e.g. "digital signature,client auth"
#   k8s_csr_field NAME JSONPATH               e.g. k8s_csr_field x '{.spec.username}'
#   k8s_csr_condition NAME                    "Approved:REASON", "Denied:REASON",
#                                             "Failed:REASON" or "" (pending)
#   k8s_csr_wait_condition NAME [TIMEOUT_S]   wait for any condition; prints it
#   k8s_csr_wait_cert NAME OUT [TIMEOUT_S]    wait for status.certificate, write PEM
# RBAC for requesters
#   k8s_allow_csr_create NAME LABEL=VALUE SUBJECT...
#                                             ClusterRole + ClusterRoleBinding NAME
#                                             (labelled) letting SUBJECTs create and
#                                             get CSRs; SUBJECT is group:G, user:U or
#                                             sa:NS:NAME
# Misc
#   k8s_wait TIMEOUT_S CMD...                 poll CMD every 0.2 s until it succeeds

k8s_allow_csr_create() { # NAME LABEL=VALUE SUBJECT...
	local name=$1 label=$2 subj args=()
	shift 2
	for subj in "$@"; do
		case $subj in
		group:*) args+=("--group=${subj#group:}") ;;
		user:*) args+=("--user=${subj#user:}") ;;
		sa:*) args+=("--serviceaccount=${subj#sa:}") ;;
		*)
			echo "k8s_allow_csr_create: subject \"$subj\" is not group:, user: or sa:" >&2
			return 1
			;;
		esac
	done
	kubectl create clusterrole "$name" --verb=create,get \
		--resource=certificatesigningrequests.certificates.k8s.io >/dev/null &&
		kubectl create clusterrolebinding "$name" --clusterrole="$name" "${args[@]}" >/dev/null &&
		kubectl label clusterrole,clusterrolebinding "$name" "$label" >/dev/null
}

k8s_wait() { # TIMEOUT_S CMD...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

k8s_uid() { # KIND NAME [NS]
	kubectl get "$1" "$2" ${3:+-n "$3"} -o jsonpath='{.metadata.uid}'
}

k8s_sa_wait() { # NS [SA] [TIMEOUT_S]
	k8s_wait "${3:-60}" kubectl get serviceaccount "${2:-default}" -n "$1" -o name >/dev/null 2>&1 || {
		echo "k8s_sa_wait: serviceaccount $1/${2:-default} did not appear" >&2
		return 1
	}
}

k8s_ns_create() { # NS
	kubectl get namespace "$1" -o name >/dev/null 2>&1 || kubectl create namespace "$1" >/dev/null || return 1
	k8s_sa_wait "$1" default
}

k8s_sa_create() { # NS SA
	kubectl get serviceaccount "$2" -n "$1" -o name >/dev/null 2>&1 ||
		kubectl create serviceaccount "$2" -n "$1" >/dev/null
}

k8s_pod_create() { # NS NAME [-s SA] [-n NODE] [-l K=V]... [-H HOST] [-d SUBDOMAIN]
	local ns=$1 name=$2 sa="" node="" host="" sub="" labels="" opt OPTIND=1
	shift 2
	while getopts "s:n:l:H:d:" opt; do
		case $opt in
		s) sa=$OPTARG ;;
		n) node=$OPTARG ;;
		l) labels+="${labels:+,}\"${OPTARG%%=*}\":\"${OPTARG#*=}\"" ;;
		H) host=$OPTARG ;;
		d) sub=$OPTARG ;;
		*)
			echo "k8s_pod_create: bad option" >&2
			return 2
			;;
		esac
	done
	local spec='"containers":[{"name":"main","image":"registry.k8s.io/pause:3.10"}]'
	[[ -n $sa ]] && spec+=",\"serviceAccountName\":\"$sa\""
	[[ -n $node ]] && spec+=",\"nodeName\":\"$node\""
	[[ -n $host ]] && spec+=",\"hostname\":\"$host\""
	[[ -n $sub ]] && spec+=",\"subdomain\":\"$sub\""
	local uid
	uid=$(
		kubectl create -o jsonpath='{.metadata.uid}' -f - <<EOF
{"apiVersion":"v1","kind":"Pod",
 "metadata":{"name":"$name","namespace":"$ns","labels":{$labels}},
 "spec":{$spec}}
EOF
	) || return 1
	echo "$uid"
}

k8s_pod_set_status() { # NS NAME PHASE [IP]...
	local ns=$1 name=$2 phase=$3 ip ips="" status
	shift 3
	for ip in "$@"; do
		ips+="${ips:+,}{\"ip\":\"$ip\"}"
	done
	status="\"phase\":\"$phase\""
	if (($# > 0)); then
		status+=",\"podIP\":\"$1\",\"podIPs\":[$ips]"
	fi
	if [[ $phase == Running ]]; then
		status+=",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]"
	fi
	kubectl patch pod "$name" -n "$ns" --subresource=status --type=merge \
		-p "{\"status\":{$status}}" >/dev/null
}

k8s_pod_run() { # NS NAME IP[,IP6] [k8s_pod_create opts]
	local ns=$1 name=$2 ipl=$3 uid
	shift 3
	uid=$(k8s_pod_create "$ns" "$name" "$@") || return 1
	local -a ips
	IFS=, read -r -a ips <<<"$ipl"
	k8s_pod_set_status "$ns" "$name" Running "${ips[@]}" || return 1
	echo "$uid"
}

k8s_node_create() { # NAME [TYPE=ADDR]...
	local name=$1 a addrs=""
	shift
	kubectl get node "$name" -o name >/dev/null 2>&1 ||
		kubectl create -f - >/dev/null <<EOF || return 1
{"apiVersion":"v1","kind":"Node","metadata":{"name":"$name","labels":{"kubernetes.io/hostname":"$name"}}}
EOF
	for a in "$@"; do
		addrs+="${addrs:+,}{\"type\":\"${a%%=*}\",\"address\":\"${a#*=}\"}"
	done
	if (($# > 0)); then
		kubectl patch node "$name" --subresource=status --type=merge \
			-p "{\"status\":{\"addresses\":[$addrs]}}" >/dev/null || return 1
	fi
	k8s_uid node "$name"
}

k8s_token() { # NS SA [POD] [DURATION]
	local ns=$1 sa=$2 pod=${3:-} dur=${4:-1h} uid
	if [[ -n $pod ]]; then
		uid=$(k8s_uid pod "$pod" "$ns") || return 1
		kubectl create token "$sa" -n "$ns" --duration="$dur" \
			--bound-object-kind=Pod --bound-object-name="$pod" --bound-object-uid="$uid"
	else
		kubectl create token "$sa" -n "$ns" --duration="$dur"
	fi
}

k8s_token_kubeconfig() { # TOKEN OUT
	(
		umask 077
		cat >"$2" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: csr-approver
  cluster:
    server: $CSR_APPROVER_APISERVER
    certificate-authority-data: $(base64 -w0 <"$CSR_APPROVER_CA_CERT")
users:
- name: token
  user:
    token: $1
contexts:
- name: token@csr-approver
  context:
    cluster: csr-approver
    user: token
current-context: token@csr-approver
EOF
	)
}

k8s_client_kubeconfig() { # OUT CN [O]...
	local out=$1 dir name
	shift
	dir=$(mktemp -d)
	name=client
	# pki_client_cert signs with DIR/ca.{crt,key}: point them at the cluster CA.
	ln -s "$CSR_APPROVER_CA_CERT" "$dir/ca.crt"
	ln -s "$CSR_APPROVER_CA_KEY" "$dir/ca.key"
	pki_client_cert "$dir" "$name" "$@" &&
		pki_kubeconfig "$out" "$CSR_APPROVER_APISERVER" "$CSR_APPROVER_CA_CERT" \
			"$dir/$name.crt" "$dir/$name.key" "$1"
	local rc=$?
	rm -rf "$dir"
	return $rc
}

k8s_gen_csr() { # KEY_OUT CSR_OUT SUBJ [SAN] [KEYTYPE]
	local key=$1 csr=$2 subj=$3 san=${4:-} kt=${5:-ec-p256}
	local -a gen
	case $kt in
	ec-p256) gen=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
	ec-p384) gen=(-algorithm EC -pkeyopt ec_paramgen_curve:P-384) ;;
	ed25519) gen=(-algorithm ED25519) ;;
	rsa-*) gen=(-algorithm RSA -pkeyopt "rsa_keygen_bits:${kt#rsa-}") ;;
	*)
		echo "k8s_gen_csr: unknown key type $kt" >&2
		return 2
		;;
	esac
	(umask 077 && openssl genpkey "${gen[@]}" -out "$key" 2>/dev/null) || {
		echo "k8s_gen_csr: openssl genpkey $kt failed" >&2
		return 1
	}
	local -a ext=()
	[[ -n $san ]] && ext=(-addext "subjectAltName=$san")
	openssl req -new -key "$key" -subj "$subj" "${ext[@]}" -out "$csr" 2>/dev/null || {
		echo "k8s_gen_csr: openssl req failed (subj $subj, san $san)" >&2
		return 1
	}
}

k8s_csr_create() { # NAME SIGNER CSR_FILE USAGES [EXPIRATION_S] [LABEL=VALUE]...
	local name=$1 signer=$2 file=$3 usages=$4 exp=${5:-} u list="" labels="" l
	shift $(($# < 5 ? $# : 5))
	local -a ua
	IFS=, read -r -a ua <<<"$usages"
	for u in "${ua[@]}"; do
		list+="${list:+,}\"$u\""
	done
	for l in "$@"; do
		labels+="${labels:+,}\"${l%%=*}\":\"${l#*=}\""
	done
	kubectl create -o name -f - >/dev/null <<EOF
{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest",
 "metadata":{"name":"$name","labels":{$labels}},
 "spec":{"request":"$(base64 -w0 <"$file")","signerName":"$signer",
         "usages":[$list]${exp:+,\"expirationSeconds\":$exp}}}
EOF
}

k8s_csr_field() { # NAME JSONPATH
	kubectl get csr "$1" -o jsonpath="$2"
}

k8s_csr_condition() { # NAME
	kubectl get csr "$1" -o jsonpath='{range .status.conditions[*]}{.type}:{.reason}{"\n"}{end}' | head -n1
}

k8s_csr_wait_condition() { # NAME [TIMEOUT_S]
	local c deadline=$((SECONDS + ${2:-30}))
	while :; do
		c=$(k8s_csr_condition "$1") || return 1
		[[ -n $c ]] && {
			echo "$c"
			return 0
		}
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

k8s_csr_wait_cert() { # NAME OUT [TIMEOUT_S]
	local c deadline=$((SECONDS + ${3:-30}))
	while :; do
		c=$(kubectl get csr "$1" -o jsonpath='{.status.certificate}') || return 1
		if [[ -n $c ]]; then
			base64 -d <<<"$c" >"$2"
			return 0
		fi
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
}

# pki_client_cert and pki_kubeconfig come from hack/lib/pki.sh.
# shellcheck source=hack/lib/pki.sh
source "$(dirname "${BASH_SOURCE[0]}")/pki.sh"
