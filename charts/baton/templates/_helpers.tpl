{{/* Names and labels shared by every object of the release. */}}
{{- define "baton.fullname" -}}
{{- if contains "baton" .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-baton" .Release.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "baton.labels" -}}
app.kubernetes.io/name: baton
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "baton.selector" -}}
app.kubernetes.io/name: baton
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "baton.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* A duration value (500ms, 2s, 1m) in milliseconds, for the ordering checks below. */}}
{{- define "baton.ms" -}}
{{- $v := toString . -}}
{{- if hasSuffix "ms" $v -}}{{ trimSuffix "ms" $v | float64 }}
{{- else if hasSuffix "s" $v -}}{{ mulf (trimSuffix "s" $v | float64) 1000 }}
{{- else if hasSuffix "m" $v -}}{{ mulf (trimSuffix "m" $v | float64) 60000 }}
{{- else -}}{{ $v | float64 }}{{- end -}}
{{- end -}}

{{/* Checks the schema cannot express: the order of the election timings. */}}
{{- define "baton.validate" -}}
{{- $s := .Values.speaker -}}
{{- $interval := include "baton.ms" $s.renewInterval | float64 -}}
{{- $deadline := include "baton.ms" $s.renewDeadline | float64 -}}
{{- $duration := include "baton.ms" $s.leaseDuration | float64 -}}
{{- if not (and (lt $interval $deadline) (lt $deadline $duration)) -}}
{{- fail (printf "speaker timings: need renewInterval (%s) < renewDeadline (%s) < leaseDuration (%s), so that a holder stops before anyone may take over" $s.renewInterval $s.renewDeadline $s.leaseDuration) -}}
{{- end -}}
{{- if and (eq (toString $s.liveness) "slow") (not $s.heartbeats) -}}
{{- fail "speaker.liveness: slow (the default) needs speaker.heartbeats: true (without heartbeats a crashed holder is replaced only when its 20 s Lease expires); with heartbeats: false, set liveness: fast" -}}
{{- end -}}
{{- $le := .Values.controller.leaderElection -}}
{{- $retry := include "baton.ms" $le.retryPeriod | float64 -}}
{{- $cdeadline := include "baton.ms" $le.renewDeadline | float64 -}}
{{- $cduration := include "baton.ms" $le.leaseDuration | float64 -}}
{{- if not (and (lt $retry $cdeadline) (lt $cdeadline $cduration)) -}}
{{- fail (printf "controller.leaderElection: need retryPeriod (%s) < renewDeadline (%s) < leaseDuration (%s)" $le.retryPeriod $le.renewDeadline $le.leaseDuration) -}}
{{- end -}}
{{- end -}}

{{- define "baton.podSecurity" -}}
seccompProfile:
  type: RuntimeDefault
{{- end -}}
