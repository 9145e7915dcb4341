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

{{/* An ExternalSecret of the platform: (dict "root" $ "prefix" <remote key prefix> "name" "namespace" "data" {key: {document, property}} ["template" <target.template>]). */}}
{{- define "platform.externalSecret" -}}
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata:
  name: {{ .name }}
  namespace: {{ .namespace }}
  labels:
    {{- include "platform.labels" .root | nindent 4 }}
spec:
  refreshInterval: {{ .root.Values.secrets.refreshInterval }}
  secretStoreRef:
    kind: ClusterSecretStore
    name: {{ .root.Values.secrets.storeName }}
  target:
    name: {{ .name }}
    creationPolicy: Owner
    deletionPolicy: Retain
    {{- with .template }}
    template:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  data:
    {{- range $key := keys .data | sortAlpha }}
    {{- $ref := get $.data $key }}
    - secretKey: {{ $key }}
      remoteRef:
        key: {{ printf "%s/%s" $.prefix $ref.document }}
        property: {{ $ref.property }}
    {{- end }}
{{- end }}
