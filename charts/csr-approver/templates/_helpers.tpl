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
