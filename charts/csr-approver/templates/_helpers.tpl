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
{{- end }}
