{{/* Name of the ConfigMap holding scopegate.yaml (one per release, shared by its workloads). */}}
{{- define "scopegate-sidecar.configName" -}}
{{- printf "%s-scopegate-config" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "scopegate-sidecar.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: scopegate
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* ceil(drainTimeoutMs / 1000) */}}
{{- define "scopegate-sidecar.drainSeconds" -}}
{{- div (add (int64 .Values.drainTimeoutMs) 999) 1000 -}}
{{- end -}}

{{/* The pod's minimum grace period: preStop + drain + slack. */}}
{{- define "scopegate-sidecar.minGrace" -}}
{{- add (int64 .Values.preStopSleepSeconds) (int64 (include "scopegate-sidecar.drainSeconds" .)) (int64 .Values.graceSlackSeconds) -}}
{{- end -}}

{{/* scopegate.yaml: values.config plus the keys the chart owns. */}}
{{- define "scopegate-sidecar.configYaml" -}}
{{- $config := deepCopy .Values.config -}}
{{- $upstream := mergeOverwrite (get $config "upstream" | default dict) (dict "url" (printf "http://127.0.0.1:%d" (int64 .Values.upstreamPort))) -}}
{{- $limits := mergeOverwrite (get $config "limits" | default dict) (dict "drain_timeout_ms" (int64 .Values.drainTimeoutMs)) -}}
{{- $_ := set $config "listen" (printf "0.0.0.0:%d" (int64 .Values.proxyPort)) -}}
{{- $_ = set $config "admin_listen" (printf "0.0.0.0:%d" (int64 .Values.adminPort)) -}}
{{- $_ = set $config "upstream" $upstream -}}
{{- $_ = set $config "limits" $limits -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The scopegate container. */}}
{{- define "scopegate-sidecar.container" -}}
name: scopegate
image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{- with .Values.env }}
env:
  {{- toYaml . | nindent 2 }}
{{- end }}
ports:
  - name: proxy
    containerPort: {{ .Values.proxyPort }}
    protocol: TCP
  - name: admin
    containerPort: {{ .Values.adminPort }}
    protocol: TCP
{{- with .Values.livenessProbe }}
livenessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.readinessProbe }}
readinessProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.startupProbe }}
startupProbe:
  {{- toYaml . | nindent 2 }}
{{- end }}
lifecycle:
  preStop:
    sleep:
      seconds: {{ .Values.preStopSleepSeconds }}
{{- with .Values.resources }}
resources:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
volumeMounts:
  - name: scopegate-config
    mountPath: /etc/scopegate
    readOnly: true
{{- end -}}

{{/*
The objects of .Values.manifests, parsed: a list of maps (empty documents dropped).
Returned as YAML ({objects: [...]}) because include can only return a string.
*/}}
{{- define "scopegate-sidecar.objects" -}}
{{- $objects := list -}}
{{- range $i, $doc := regexSplit "(?m)^---[ \\t]*(?:#.*)?$" .Values.manifests -1 -}}
{{- $obj := fromYaml $doc -}}
{{- if hasKey $obj "Error" -}}
{{- fail (printf "manifests, document %d: %s" (add $i 1) (get $obj "Error")) -}}
{{- end -}}
{{- if $obj -}}
{{- $objects = append $objects $obj -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "objects" $objects) -}}
{{- end -}}

{{/* "true" when the object is a Deployment/StatefulSet that gets the sidecar. */}}
{{- define "scopegate-sidecar.isTarget" -}}
{{- $obj := .obj -}}
{{- if and (has $obj.kind (list "Deployment" "StatefulSet")) (hasPrefix "apps/" (toString $obj.apiVersion)) -}}
{{- $name := $obj.metadata.name -}}
{{- $annotations := $obj.metadata.annotations | default dict -}}
{{- if .root.Values.workloads -}}
{{- if has $name .root.Values.workloads -}}true{{- end -}}
{{- else if eq (toString (get $annotations "scopegate.io/inject")) "true" -}}true{{- end -}}
{{- end -}}
{{- end -}}
