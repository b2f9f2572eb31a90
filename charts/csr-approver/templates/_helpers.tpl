{{/* The chart's short name. */}}
{{- define "csr-approver.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: a prefix for every object. */}}
{{- define "csr-approver.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "csr-approver.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "csr-approver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "csr-approver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "csr-approver.labels" -}}
helm.sh/chart: {{ include "csr-approver.chart" . }}
{{ include "csr-approver.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "csr-approver.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "csr-approver.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "csr-approver.requesterRoleName" -}}
{{- default (printf "%s-requester" (include "csr-approver.fullname" .)) .Values.requesterRole.name }}
{{- end }}

{{- define "csr-approver.leaseName" -}}
{{- default (include "csr-approver.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "csr-approver.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Host network: asked for, or implied by the pre-CNI mode. */}}
{{- define "csr-approver.hostNetwork" -}}
{{- if or .Values.hostNetwork .Values.preCNI.enabled }}true{{ end }}
{{- end }}

{{/* The distinct signerNames of the policies, as a JSON list. */}}
{{- define "csr-approver.signerNames" -}}
{{- $names := list }}
{{- range .Values.policies }}
{{- $names = append $names .signerName }}
{{- end }}
{{- $names | uniq | toJson }}
{{- end }}

{{/* Where the CA Secret of policy NAME is mounted: CADIR/NAME/tls.crt, tls.key. */}}
{{- define "csr-approver.caDir" -}}
/etc/csr-approver/ca
{{- end }}

{{/*
The policies as the policy file holds them: each `issuer` (chart values: a
Secret) becomes the `issue` block csr-approver reads (the files of that
Secret, mounted by the Deployment). The other keys are copied as they are,
so csr-approver applies its own defaults.
*/}}
{{- define "csr-approver.policyFile" -}}
{{- $out := list }}
{{- range .Values.policies }}
{{- $p := omit . "issuer" }}
{{- if .issuer }}
{{- $issue := omit .issuer "secretName" }}
{{- $dir := printf "%s/%s" (include "csr-approver.caDir" $) .name }}
{{- $_ := set $issue "caCertFile" (printf "%s/tls.crt" $dir) }}
{{- $_ := set $issue "caKeyFile" (printf "%s/tls.key" $dir) }}
{{- $_ := set $p "issue" $issue }}
{{- end }}
{{- $out = append $out $p }}
{{- end }}
{{- toYaml $out }}
{{- end }}

{{/*
What the built-in signer needs, as JSON: {"sign": signerNames of the
policies with an issuer, "attest": those publishing a trust bundle (trustBundle
unset means true, csr-approver's default), "bundles": the names of those
bundles (signerName with "/" written ":", then ":ca"), "podCertificates":
signerNames of the policies answering PodCertificateRequests}.
*/}}
{{- define "csr-approver.issuing" -}}
{{- $sign := list }}
{{- $attest := list }}
{{- $bundles := list }}
{{- $pcr := list }}
{{- range .Values.policies }}
{{- if .issuer }}
{{- $sign = append $sign .signerName }}
{{- if or (not (hasKey .issuer "trustBundle")) .issuer.trustBundle }}
{{- $attest = append $attest .signerName }}
{{- $bundles = append $bundles (printf "%s:ca" (replace "/" ":" .signerName)) }}
{{- end }}
{{- if .podCertificates }}
{{- $pcr = append $pcr .signerName }}
{{- end }}
{{- end }}
{{- end }}
{{- dict "sign" $sign "attest" $attest "bundles" $bundles "podCertificates" $pcr | toJson }}
{{- end }}

{{/* "true" when a policy of type $type exists: include "csr-approver.hasType" (list . "workload") */}}
{{- define "csr-approver.hasType" -}}
{{- $root := index . 0 }}
{{- $type := index . 1 }}
{{- range $root.Values.policies }}
{{- if eq .type $type }}true{{ end }}
{{- end }}
{{- end }}

{{/*
Checks the schema cannot express; rendered (as nothing) by every template
that depends on the values, so a bad combination fails `helm template`.
*/}}
{{- define "csr-approver.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicaCount > 1 needs leaderElection.enabled: true (two active replicas would both decide every CertificateSigningRequest)" }}
{{- end }}
{{- $names := dict }}
{{- $signers := dict }}
{{- range .Values.policies }}
{{- if hasKey $names .name }}
{{- fail (printf "policies: the name %q is used twice" .name) }}
{{- end }}
{{- if hasKey $signers .signerName }}
{{- fail (printf "policies: the signerName %q is used by %q and %q (one policy per signer)" .signerName (get $signers .signerName) .name) }}
{{- end }}
{{- $_ := set $names .name true }}
{{- $_ := set $signers .signerName .name }}
{{- end }}
{{- include "csr-approver.validatePolicies" . }}
{{- end }}

{{/*
A Go duration, as the schema's pattern lets it through ("90m", "1.5h",
"0"), in whole milliseconds (rounded down, as csr-approver does); more
than 290 years gives a larger number, never an error.
*/}}
{{- define "csr-approver.durationMs" -}}
{{- $unitMs := dict "ns" 0.000001 "us" 0.001 "µs" 0.001 "μs" 0.001 "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 }}
{{- $total := 0.0 }}
{{- range regexFindAll "([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h)" (trimPrefix "+" .) -1 }}
{{- $n := regexFind "^([0-9]+(\\.[0-9]*)?|\\.[0-9]+)" . }}
{{- $total = addf $total (mulf (float64 $n) (get $unitMs (trimPrefix $n .))) }}
{{- end }}
{{- printf "%.0f" (floor $total) }}
{{- end }}

{{/*
What values.schema.json cannot say about a policy, with the message
csr-approver gives for the same policy file (the file:line aside):
minExpirationSeconds above maxExpirationSeconds (either may be a default,
which depends on the type),
and CIDRs whose host bits are set. csr-approver stays the authority:
`csr-approver check --config` on the values checks everything.
*/}}
{{- define "csr-approver.validatePolicies" -}}
{{- $pow := list 1 2 4 8 16 32 64 128 256 512 1024 2048 4096 8192 16384 32768 65536 }}
{{- range $i, $p := .Values.policies }}
{{- with $p.issuer }}
{{- /* csr-approver's bounds: lifetime 1m to 100 years (of 366 days),
backdate up to 1h, both in whole seconds. */}}
{{- range $key, $bounds := dict "lifetime" (list 60 3162240000) "backdate" (list 0 3600) }}
{{- if hasKey $p.issuer $key }}
{{- $v := toString (get $p.issuer $key) }}
{{- $ms := include "csr-approver.durationMs" $v | float64 }}
{{- $at := printf "policies[%d].issuer.%s" $i $key }}
{{- if ne (mod (int64 $ms) 1000) 0 }}
{{- fail (printf "%s: expected a duration in whole seconds like 24h or 90m, got %q" $at $v) }}
{{- end }}
{{- $sec := div (int64 $ms) 1000 }}
{{- if or (lt $sec (index $bounds 0 | int64)) (gt $sec (index $bounds 1 | int64)) }}
{{- fail (printf "%s: %q is out of range [%ds, %ds]" $at $v (index $bounds 0 | int64) (index $bounds 1 | int64)) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $p.podCertificates }}
{{- $life := include "csr-approver.durationMs" (toString ($p.issuer.lifetime | default "24h")) | float64 }}
{{- if lt $life 3600000.0 }}
{{- fail (printf "policies[%d].issuer.lifetime: podCertificates needs a lifetime of at least 1h (the API server refuses shorter pod certificates), got %ds" $i (div (int64 $life) 1000)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $min := 600 }}
{{- /* The default maximum of type client is 8 hours. */}}
{{- $max := ternary 28800 86400 (eq (toString $p.type) "client") }}
{{- if hasKey $p "minExpirationSeconds" }}{{ $min = int64 $p.minExpirationSeconds }}{{ end }}
{{- if hasKey $p "maxExpirationSeconds" }}{{ $max = int64 $p.maxExpirationSeconds }}{{ end }}
{{- if gt (int64 $min) (int64 $max) }}
{{- fail (printf "policies[%d]: minExpirationSeconds (%d) is greater than maxExpirationSeconds (%d)" $i (int64 $min) (int64 $max)) }}
{{- end }}
{{- range $j, $cidr := ($p.ipPrefixes | default list) }}
{{- $parts := splitList "/" $cidr }}
{{- $addr := index $parts 0 }}
{{- $bits := atoi (index $parts 1) }}
{{- $groups := list }}
{{- $width := 8 }}
{{- if contains ":" $addr }}
{{- /* IPv6: eight groups of 16 bits, "::" expanded; a dotted IPv4 tail is
left to csr-approver. */}}
{{- $width = 16 }}
{{- if not (contains "." $addr) }}
{{- $halves := splitList "::" $addr }}
{{- $head := list }}
{{- $tail := list }}
{{- if ne (index $halves 0) "" }}{{ $head = splitList ":" (index $halves 0) }}{{ end }}
{{- if and (gt (len $halves) 1) (ne (index $halves 1) "") }}{{ $tail = splitList ":" (index $halves 1) }}{{ end }}
{{- $groups = $head }}
{{- if gt (len $halves) 1 }}
{{- range until (sub 8 (add (len $head) (len $tail)) | int) }}{{ $groups = append $groups "0" }}{{ end }}
{{- end }}
{{- $groups = concat $groups $tail }}
{{- end }}
{{- else }}
{{- $groups = splitList "." $addr }}
{{- end }}
{{- $host := false }}
{{- $net := list }}
{{- /* An address that is not 4 or 8 groups is csr-approver's to refuse. */}}
{{- if ne (len $groups) (ternary 4 8 (eq $width 8)) }}{{ $groups = list }}{{ end }}
{{- range $k, $g := $groups }}
{{- $v := 0 }}
{{- if eq $width 16 }}{{ $v = int64 (printf "0x%s" $g) }}{{ else }}{{ $v = int64 (atoi $g) }}{{ end }}
{{- $keep := sub $bits (mul $k $width) }}
{{- $n := $v }}
{{- if le $keep 0 }}{{ $n = 0 }}{{ else if lt $keep $width }}{{ $n = sub $v (mod $v (index $pow (sub $width $keep | int))) }}{{ end }}
{{- if ne (int64 $n) (int64 $v) }}{{ $host = true }}{{ end }}
{{- $net = append $net (toString $n) }}
{{- end }}
{{- if $host }}
{{- if eq $width 8 }}
{{- fail (printf "policies[%d].ipPrefixes[%d]: invalid CIDR %q: host bits are set (the network is %s/%d)" $i $j $cidr (join "." $net) $bits) }}
{{- else }}
{{- fail (printf "policies[%d].ipPrefixes[%d]: invalid CIDR %q: host bits are set" $i $j $cidr) }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
