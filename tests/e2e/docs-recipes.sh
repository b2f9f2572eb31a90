#!/usr/bin/env bash
# The documented recipes, run as a new user would run them, with their
# documented output compared byte for byte:
#
#   1. every shell block marked "<!-- recipe: ... -->" in README.md,
#      docs/troubleshooting.md and docs/policy.md, run in order in one work
#      folder per document; the next fenced block after it is the output it
#      must print (and a JSON record's decision fixes the exit status);
#   2. the replay lines of the chart's NOTES.txt, rendered by helm, which
#      must print the record README.md documents;
#   3. the install blocks of README.md and docs/install.md: the image the
#      documented `docker build` tags is the image the documented
#      `helm install` runs;
#   4. facts the docs state in several places agree: the first build's
#      duration, and that hostNetwork adds the pre-CNI tolerations (which
#      the rendered chart shows).
#
# kubectl, docker, git and make are stand-ins (in $T/bin) that answer the
# documented invocations from the repository's fixtures and fail on any
# other: the CSR of the docs is tests/testdata/csrobj/api-5c8-tls (denied
# by the controller as `check` decides it), the cluster state
# tests/testdata/objects/shop.yaml, the policy docs/examples/policy.yaml.
# csr-approver and helm are the real ones. No cluster needed.
#
# Prints "ok -" / "not ok -" lines and ends with "N passed, N failed".
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
source "$here/lib.sh"
cd "$T_ROOT" || exit 1
t_tmp
T=$T_TMP

bin=${CSR_APPROVER_BIN:-build/csr-approver}
[[ $bin == /* ]] || bin=$T_ROOT/$bin
if [[ ! -x $bin ]]; then
	make -s "${bin#"$T_ROOT"/}" >"$T/make.log" 2>&1 || t_abort "csr-approver built" "$(tail -n 20 "$T/make.log")"
fi
# shellcheck source=hack/lib/versions.sh
source "$T_ROOT/hack/lib/versions.sh"
helm=$CSR_APPROVER_K8S_BIN/helm
[[ -x $helm ]] || t_abort "helm from the cluster tooling" "$helm is missing (hack/k8s-build.sh)"

# ------------------------------------------------------------------ stand-ins

fx=$T/fixtures
mkdir -p "$T/bin" "$fx"
cp tests/testdata/csrobj/api-5c8-tls.yaml "$fx/csr.yaml"
cp tests/testdata/csrobj/api-5c8-tls.json "$fx/csr.json"
cp tests/testdata/objects/shop.yaml "$fx/objects.yaml"
cp docs/examples/policy.yaml "$fx/policy.yaml"
ln -s "$bin" "$T/bin/csr-approver"

cat >"$T/bin/kubectl" <<'EOF'
#!/usr/bin/env bash
# kubectl as the documented recipes call it, answered from fixtures.
fx=${DOCS_FIXTURES:?}
args="$*"
if [[ $args == 'get csr NAME -o yaml' ]]; then
	cat "$fx/csr.yaml"
elif [[ $args == 'get pods,svc,nodes -A -o yaml' ]]; then
	cat "$fx/objects.yaml"
elif [[ $args == 'get configmap -n csr-approver csr-approver -o jsonpath={.data.policy\.yaml}' ]]; then
	cat "$fx/policy.yaml"
elif [[ $args == 'get csr NAME -o jsonpath={range .status.conditions[*]}{.type} {.reason}: {.message}{"\n"}{end}' ]]; then
	jq -r '.status.conditions[] | "\(.type) \(.reason): \(.message)"' "$fx/csr.json"
else
	echo "kubectl stand-in: no answer for: kubectl $args" >&2
	exit 1
fi
EOF
cat >"$T/bin/git" <<'EOF'
#!/usr/bin/env bash
# git as the install recipes call it.
case "$*" in
"describe --tags --always") echo v0.1.0-7-gabc1234 ;;
"rev-parse --short HEAD") echo abc1234 ;;
*) echo "git stand-in: no answer for: git $*" >&2; exit 1 ;;
esac
EOF
cat >"$T/bin/docker" <<'EOF'
#!/usr/bin/env bash
# docker as the install recipes call it: records what build tags and push
# sends.
case "$1" in
build)
	shift
	while (($# > 0)); do
		[[ $1 == -t ]] && echo "$2" >>.docker-built
		shift
	done ;;
push) echo "$2" >>.docker-pushed ;;
*) echo "docker stand-in: no answer for: docker $*" >&2; exit 1 ;;
esac
EOF
cat >"$T/bin/helm" <<EOF
#!/usr/bin/env bash
# helm install as the docs show it, rendered by the real helm (template):
# the manifests go to .helm-rendered.yaml.
[[ \$1 == install ]] || { echo "helm stand-in: no answer for: helm \$*" >&2; exit 1; }
shift
args=()
for a in "\$@"; do [[ \$a == --create-namespace ]] || args+=("\$a"); done
exec "$helm" template "\${args[@]}" >.helm-rendered.yaml
EOF
cat >"$T/bin/make" <<'EOF'
#!/usr/bin/env bash
# The binary is built already ($CSR_APPROVER_BIN).
exit 0
EOF
chmod +x "$T/bin"/*

# A work folder as a reader has it: the repository's docs and fixtures at
# hand, build/csr-approver, and the files the docs call yours.
workdir() { # DIR
	mkdir -p "$1/build"
	ln -s "$T_ROOT/docs" "$1/docs"
	ln -s "$T_ROOT/tests" "$1/tests"
	ln -s "$T_ROOT/charts" "$1/charts"
	ln -s "$bin" "$1/build/csr-approver"
	cp "$fx/policy.yaml" "$1/policy.yaml"
	cp tests/testdata/csrobj/other-signer.yaml "$1/csr-of-another-signer.yaml"
	cp tests/testdata/csrobj/workload-good.yaml "$1/csr-of-a-pod.yaml"
	cp "$T/my-values.yaml" "$1/my-values.yaml"
	cp "$T/my-values.yaml" "$1/my-policies.yaml"
}

# Run SCRIPT in DIR with the stand-ins first on PATH; stdout to OUT.
run_in() { # DIR SCRIPT OUT
	(cd "$1" && DOCS_FIXTURES=$fx PATH="$T/bin:$PATH" bash -o pipefail "$2" >"$3" 2>"$3.err")
}

# Extract the fenced blocks that follow a line matching MARKER in FILE:
# OUT/N.sh (the block), OUT/N.out (the next fenced block, when there is
# one before the next marker), OUT/N.where (FILE:LINE).
extract() { # FILE MARKER OUT
	mkdir -p "$3"
	awk -v dir="$3" -v marker="$2" '
		index($0, marker) == 1 { want = 1; next }
		/^```/ {
			if (fence) { fence = 0; if (cur == "sh") after = 1; cur = ""; next }
			fence = 1
			if (want) { want = 0; n++; cur = "sh"; printf "%s:%d\n", FILENAME, NR > (dir "/" n ".where"); next }
			if (after) { after = 0; cur = "out"; printf "" > (dir "/" n ".out"); next }
			cur = ""; next
		}
		fence && cur == "sh" { print > (dir "/" n ".sh") }
		fence && cur == "out" { print > (dir "/" n ".out") }
	' "$1"
}

# The exit status a recipe's documented output implies.
want_status() { # OUTFILE
	case $(jq -r '.decision? // empty' "$1" 2>/dev/null) in
	approve) echo 0 ;;
	deny) echo 1 ;;
	skip) echo 3 ;;
	*) echo 0 ;;
	esac
}

# The example values of docs/install.md are the reader's my-values.yaml.
awk '/^with, for example, `my-values.yaml`:|`my-values.yaml`:$/ { f = 1; next }
	f && /^```yaml/ { y = 1; next } y && /^```/ { exit } y { print }' docs/install.md >"$T/my-values.yaml"
if [[ -s $T/my-values.yaml ]] && grep -q '^policies:' "$T/my-values.yaml"; then
	t_ok "docs/install.md has example values (my-values.yaml)"
else
	t_fail "docs/install.md has example values (my-values.yaml)"
fi

# ------------------------------------------------------------------ 1. recipes

readme_record=""
for doc in README.md docs/troubleshooting.md docs/policy.md; do
	name=$(basename "$doc" .md)
	extract "$doc" "<!-- recipe:" "$T/recipes-$name"
	dir=$T/run-$name
	workdir "$dir"
	n=0
	for sh in "$T/recipes-$name"/*.sh; do
		[[ -e $sh ]] || continue
		n=$((n + 1))
	done
	if ((n == 0)); then
		t_fail "$doc has recipes to run" "no block marked <!-- recipe:"
		continue
	fi
	for ((i = 1; i <= n; i++)); do
		r=$T/recipes-$name/$i
		where=$(cat "$r.where")
		first=$(grep -m1 -v '^\s*$' "$r.sh")
		if [[ ! -e $r.out ]]; then
			t_fail "$where: a recipe shows its output" "no fenced block after it"
			continue
		fi
		run_in "$dir" "$r.sh" "$r.got"
		rc=$?
		if cmp -s "$r.out" "$r.got"; then
			t_ok "$where: '$first' prints what the docs show"
		else
			t_fail "$where: '$first' prints what the docs show" \
				"$(diff "$r.out" "$r.got" | head -n 20)"$'\n'"$(head -n 5 "$r.got.err")"
		fi
		t_eq "$where: '$first' exits as its output says" "$(want_status "$r.out")" "$rc"
		if [[ $doc == README.md && -z $readme_record ]] && grep -q '"alreadyDecided"' "$r.out"; then
			readme_record=$r.out
		fi
	done
done

# The same CSR, the same story, wherever the docs tell it.
denied=$(jq -r '.status.conditions[0].message' tests/testdata/csrobj/api-5c8-tls.json)
if [[ -n $readme_record ]]; then
	t_eq "the CSR of the docs carries the denial check makes now" "$denied" \
		"$(jq -r .message "$readme_record")"
else
	t_fail "README.md documents the replay of a denied CSR"
fi

# ------------------------------------------------------------------ 2. NOTES.txt

# helm renders NOTES.txt only at install; render it as a named template.
chart=$T/chart
cp -r charts/csr-approver "$chart"
{
	echo '{{- define "csr-approver.notes-under-test" -}}'
	cat "$chart/templates/NOTES.txt"
	echo '{{- end }}'
} >"$chart/templates/_notes_under_test.tpl"
cat >"$chart/templates/notes-under-test.yaml" <<'EOF'
notes: |
{{ include "csr-approver.notes-under-test" . | indent 2 }}
EOF
if "$helm" template csr-approver "$chart" -n csr-approver --show-only templates/notes-under-test.yaml \
	>"$T/notes.yaml" 2>"$T/notes.err"; then
	sed -n 's/^  //p' "$T/notes.yaml" >"$T/notes.txt"
	awk '/^Why was a CSR denied\?/ { f = 1; next } f && /^  (kubectl|csr-approver) / { sub(/^  /, ""); print; next }
		f && /^$/ { exit }' "$T/notes.txt" >"$T/notes-recipe.sh"
	if [[ -n $readme_record ]] && [[ $(wc -l <"$T/notes-recipe.sh") -ge 4 ]]; then
		dir=$T/run-notes
		workdir "$dir"
		rm -f "$dir/policy.yaml"
		run_in "$dir" "$T/notes-recipe.sh" "$T/notes.got"
		if cmp -s "$readme_record" "$T/notes.got"; then
			t_ok "NOTES.txt: the replay prints the record README.md documents"
		else
			t_fail "NOTES.txt: the replay prints the record README.md documents" \
				"$(cat "$T/notes-recipe.sh")"$'\n'"$(diff "$readme_record" "$T/notes.got")"$'\n'"$(cat "$T/notes.got.err")"
		fi
	else
		t_fail "NOTES.txt: a replay recipe of four commands" "$(cat "$T/notes.txt")"
	fi
else
	t_fail "NOTES.txt renders" "$(cat "$T/notes.err")"
fi

# ------------------------------------------------------------------ 3. install

check_install() { # DESC SCRIPT...
	local desc=$1 dir built image
	shift
	dir=$T/run-install-$RANDOM
	workdir "$dir"
	cat "$@" >"$dir/install.sh"
	if ! run_in "$dir" "$dir/install.sh" "$dir/install.out"; then
		t_fail "$desc: the commands run" "$(cat "$dir/install.sh")"$'\n'"$(tail -n 10 "$dir/install.out.err")"
		return
	fi
	built=$(cat "$dir/.docker-built" 2>/dev/null)
	image=$(sed -n 's/^ *image: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$dir/.helm-rendered.yaml" | head -n 1)
	if [[ -n $built && $built == "$image" ]] && grep -qxF "$built" "$dir/.docker-pushed"; then
		t_ok "$desc: helm installs the image docker built and pushed ($built)"
	else
		t_fail "$desc: helm installs the image docker built and pushed" "built: $built"$'\n'"installed: $image"
	fi
}
extract README.md "<!-- tested by tests/e2e/docs-recipes.sh: the image" "$T/install-readme"
check_install "README.md install" "$T/install-readme/1.sh"
extract docs/install.md "<!-- tested by tests/e2e/docs-recipes.sh:" "$T/install-doc"
# The image is built first, then installed.
check_install "docs/install.md install" "$T/install-doc/2.sh" "$T/install-doc/1.sh"

# ------------------------------------------------------------------ 4. facts

figures=$(grep -rhoiE '(first (run|time|build)[^.]*|builds? [^.]*from source[^.]*)[^0-9]*[0-9]+(-[0-9]+)? ?(min|minutes)( on [a-z]+ cores)?' \
	README.md docs hack/*.sh | grep -oE '[0-9]+(-[0-9]+)? ?(min|minutes)( on [a-z]+ cores)?' | sort -u)
t_eq "one figure for the first build's duration (README.md, docs, hack)" \
	"15 minutes on two cores" "$figures"

tol=$("$helm" template t charts/csr-approver --set hostNetwork=true 2>&1 |
	grep -oE 'node\.kubernetes\.io/not-ready|node\.cloudprovider\.kubernetes\.io/uninitialized|node-role\.kubernetes\.io/control-plane' | sort -u | wc -l)
t_eq "hostNetwork=true renders the three pre-CNI tolerations" 3 "$tol"
# The value's own documentation: its comment in values.yaml, its row in
# the tables of docs/install.md and the chart's README.
hostnet_doc() { # FILE
	case $1 in
	*.yaml) grep -B6 '^hostNetwork:' "$1" ;;
	*) grep '^| `hostNetwork` ' "$1" ;;
	esac | tr '\n' ' ' | grep -q 'pre-CNI tolerations'
}
for f in charts/csr-approver/values.yaml docs/install.md charts/csr-approver/README.md; do
	t_check "$f: the hostNetwork value says it adds the pre-CNI tolerations" hostnet_doc "$f"
done

t_done
