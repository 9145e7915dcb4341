{{- define "platform.labels" -}}
app.kubernetes.io/part-of: cryptocare
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
cryptocare.io/environment: {{ .Values.environment | quote }}
cryptocare.io/region: {{ .Values.region | quote }}
{{- end -}}

{{- define "platform.topicResourceName" -}}
{{- . | replace "." "-" | replace "_" "-" | lower -}}
{{- end -}}
