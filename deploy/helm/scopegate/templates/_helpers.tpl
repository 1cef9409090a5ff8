{{- define "scopegate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scopegate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "scopegate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scopegate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "scopegate.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "scopegate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Seconds of drain, rounded up: ceil(drainTimeoutMs / 1000). */}}
{{- define "scopegate.drainSeconds" -}}
{{- div (add (int64 .Values.scopegate.drainTimeoutMs) 999) 1000 -}}
{{- end -}}

{{/* The API's preStop sleep: it outlives scopegate's preStop sleep plus its drain. */}}
{{- define "scopegate.appPreStopSeconds" -}}
{{- add (int64 .Values.scopegate.preStopSleepSeconds) (int64 (include "scopegate.drainSeconds" .)) -}}
{{- end -}}

{{/* preStop + drain + API stop + slack, unless overridden. */}}
{{- define "scopegate.gracePeriodSeconds" -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- int64 .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add (int64 (include "scopegate.appPreStopSeconds" .)) (int64 .Values.app.shutdownSeconds) (int64 .Values.graceSlackSeconds) -}}
{{- end -}}
{{- end -}}

{{/* The scopegate.yaml the sidecar reads: values.config plus the keys the chart owns. */}}
{{- define "scopegate.configYaml" -}}
{{- $owned := dict
      "listen" (printf "0.0.0.0:%d" (int64 .Values.scopegate.proxyPort))
      "admin_listen" (printf "0.0.0.0:%d" (int64 .Values.scopegate.adminPort))
      "upstream" (dict "url" (printf "http://127.0.0.1:%d" (int64 .Values.app.port)))
      "limits" (dict "drain_timeout_ms" (int64 .Values.scopegate.drainTimeoutMs)) -}}
{{- $config := mergeOverwrite (deepCopy .Values.config) $owned -}}
{{- toYaml $config -}}
{{- end -}}
