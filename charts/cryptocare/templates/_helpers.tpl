{{/*
Shared helpers. Every per-service template ranges over .Values.services and calls these with a
context dict: (dict "root" $ "name" <service name> "svc" <service block>).
Object names are the bare service names (identity, identity-headless, ...): the runtime contract's
gRPC targets are dns:///<service>-headless:<port>, so one release per namespace.
*/}}

{{- define "cryptocare.chart" -}}
{{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end -}}

{{- define "cryptocare.imageTag" -}}
{{- $root := .root -}}
{{- $svc := .svc -}}
{{- $img := $svc.image | default dict -}}
{{- $img.tag | default $root.Values.global.image.tag | default $root.Chart.AppVersion -}}
{{- end -}}

{{- define "cryptocare.image" -}}
{{- $root := .root -}}
{{- $img := .svc.image | default dict -}}
{{- $repo := $img.repository | default (printf "%s/%s" $root.Values.global.image.registry .name) -}}
{{- $ref := printf "%s:%s" $repo (include "cryptocare.imageTag" .) -}}
{{- if $img.digest }}{{ $ref = printf "%s@%s" $ref $img.digest }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/* Labels that select a service's server pods (immutable: never add to these). */}}
{{- define "cryptocare.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: server
{{- end -}}

{{- define "cryptocare.commonLabels" -}}
app.kubernetes.io/part-of: cryptocare
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
helm.sh/chart: {{ include "cryptocare.chart" .root }}
cryptocare.io/environment: {{ .root.Values.global.environment | quote }}
cryptocare.io/region: {{ .root.Values.global.region | quote }}
{{- end -}}

{{- define "cryptocare.labels" -}}
{{ include "cryptocare.commonLabels" . }}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/version: {{ regexReplaceAll "[^A-Za-z0-9._-]" (include "cryptocare.imageTag" .) "_" | trunc 63 | trimSuffix "-" | trimSuffix "_" | trimSuffix "." | quote }}
{{- end -}}

{{/* Labels of every pod of a service (server pods and migration Job pods alike). */}}
{{- define "cryptocare.podLabels" -}}
{{ include "cryptocare.labels" . }}
cryptocare.io/service: {{ .name }}
{{- end -}}

{{/* The address every listener binds in a pod: all interfaces (the probes and peers use the pod IP). */}}
{{- define "cryptocare.listenHost" -}}0.0.0.0{{- end -}}

{{/*
The port that serves /healthz, /readyz and /metrics: the gateway's separate ops listener (ports.ops,
never behind the Gateway), a backend's HTTP port. Kubernetes names it `ops` in every pod and Service.
*/}}
{{- define "cryptocare.opsPort" -}}
{{- .svc.ports.ops | default .svc.ports.http -}}
{{- end -}}

{{/*
Is the service's traffic split by the Gateway API (a public service behind global.gateway, canaried by
Argo Rollouts)? Then its Rollout names <svc> the stable and <svc>-canary the canary Service, and the
Gateway API plugin sets the HTTPRoute's weights; otherwise a canary is weighted by replicas.
*/}}
{{- define "cryptocare.trafficRouted" -}}
{{- if and .svc.public .root.Values.global.gateway.enabled .root.Values.global.rollouts.enabled -}}true{{- end -}}
{{- end -}}

{{/* NetworkPolicy peer: the Envoy proxies of the chart's Gateway (labels Envoy Gateway sets on them). Call with $. */}}
{{- define "cryptocare.edgeProxies" -}}
- namespaceSelector:
    matchLabels: { kubernetes.io/metadata.name: {{ .Values.global.gateway.proxyNamespace }} }
  podSelector:
    matchLabels:
      app.kubernetes.io/component: proxy
      app.kubernetes.io/managed-by: envoy-gateway
      gateway.envoyproxy.io/owning-gateway-name: {{ .Values.global.gateway.name }}
      gateway.envoyproxy.io/owning-gateway-namespace: {{ .Release.Namespace }}
{{- end -}}

{{/* The backendRefs of a public service's HTTPRoute rules: its public port on <svc> (and <svc>-canary). */}}
{{- define "cryptocare.routeBackends" -}}
- group: ""
  kind: Service
  name: {{ .name }}
  port: {{ .svc.ports.http }}
  weight: 100
{{- if include "cryptocare.trafficRouted" . }}
- group: ""
  kind: Service
  name: {{ .name }}-canary
  port: {{ .svc.ports.http }}
  weight: 0
{{- end }}
{{- end -}}

{{- define "cryptocare.isGrpc" -}}
{{- if and .svc.ports .svc.ports.grpc -}}true{{- end -}}
{{- end -}}

{{- define "cryptocare.workloadKind" -}}
{{- if .root.Values.global.rollouts.enabled -}}Rollout{{- else -}}Deployment{{- end -}}
{{- end -}}

{{- define "cryptocare.workloadApiVersion" -}}
{{- if .root.Values.global.rollouts.enabled -}}argoproj.io/v1alpha1{{- else -}}apps/v1{{- end -}}
{{- end -}}

{{/*
Non-secret environment of a service, as a YAML map (ConfigMap data and the migration Job's env).
Fails on a contract secret given as a plain value.
*/}}
{{- define "cryptocare.configData" -}}
{{- $root := .root -}}
{{- $g := $root.Values.global -}}
{{- $svc := .svc -}}
{{- $data := dict -}}
{{- $_ := set $data "NODE_ENV" ($g.nodeEnv | toString) -}}
{{- $_ := set $data "LOG_LEVEL" ($g.logLevel | toString) -}}
{{- /* Every listener binds all interfaces of the pod (docs/runtime-contract.md): probes, the
Service and Prometheus reach the pod on its pod IP, never on loopback. A backend's gRPC server and
its ops HTTP both listen on GRPC_HOST; the gateway's public HTTP on HTTP_HOST, its ops on OPS_HOST. */ -}}
{{- $_ := set $data "HTTP_PORT" ($svc.ports.http | toString) -}}
{{- if $svc.ports.grpc -}}
{{- $_ := set $data "GRPC_HOST" (include "cryptocare.listenHost" .) -}}
{{- $_ := set $data "GRPC_PORT" ($svc.ports.grpc | toString) -}}
{{- else -}}
{{- $_ := set $data "HTTP_HOST" (include "cryptocare.listenHost" .) -}}
{{- end -}}
{{- if $svc.ports.ops -}}
{{- $_ := set $data "OPS_HOST" (include "cryptocare.listenHost" .) -}}
{{- $_ := set $data "OPS_PORT" ($svc.ports.ops | toString) -}}
{{- end -}}
{{- if $svc.public -}}
{{- /* Peers whose X-Forwarded-For the gateway believes (the Envoy proxies' pods); empty: none. */ -}}
{{- $_ := set $data "TRUSTED_PROXIES" (join "," ($svc.trustedProxies | default list)) -}}
{{- end -}}
{{- /* The data region this cluster serves: identity refuses other regions' sign-ups, the gateway
other regions' tokens (docs/compliance/data-region.md). Every service gets it: all of its data is that region's. */ -}}
{{- $_ := set $data "DATA_REGION" (upper $g.region) -}}
{{- if $svc.public -}}
{{- $urls := list -}}
{{- range $r, $u := ($g.regionBaseUrls | default dict) -}}
{{- $urls = append $urls (printf "%s=%s" (upper $r) $u) -}}
{{- end -}}
{{- $_ := set $data "REGION_BASE_URLS" (join "," $urls) -}}
{{- end -}}
{{- $_ := set $data "KAFKA_CLIENT_ID" .name -}}
{{- range $other, $o := $root.Values.services -}}
{{- if and $o.enabled $o.ports $o.ports.grpc -}}
{{- $_ := set $data (printf "%s_ADDR" (upper $other)) (printf "dns:///%s-headless:%v" $other $o.ports.grpc) -}}
{{- end -}}
{{- end -}}
{{- if $g.otel.enabled -}}
{{- $_ := set $data "OTEL_SERVICE_NAME" .name -}}
{{- $_ := set $data "OTEL_EXPORTER_OTLP_ENDPOINT" ($g.otel.endpoint | toString) -}}
{{- $_ := set $data "OTEL_TRACES_SAMPLER" ($g.otel.sampler | toString) -}}
{{- $_ := set $data "OTEL_TRACES_SAMPLER_ARG" ($g.otel.samplerRatio | toString) -}}
{{- $_ := set $data "OTEL_RESOURCE_ATTRIBUTES" (printf "deployment.environment=%s,cryptocare.region=%s,service.namespace=cryptocare" $g.environment $g.region) -}}
{{- else -}}
{{- $_ := set $data "OTEL_SDK_DISABLED" "true" -}}
{{- end -}}
{{- $extra := merge (dict) ($svc.env | default dict) ($g.env | default dict) -}}
{{- range $k, $v := $extra -}}
{{- if has $k $root.Values.contractSecretKeys -}}
{{- fail (printf "%s is a secret of the runtime contract: reference it through services.%s.secretRefs, never as a value" $k $.name) -}}
{{- end -}}
{{- $_ := set $data $k ($v | toString) -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/*
The durable consumer groups of a service and their topics, as JSON ({"<group>": ["<topic>", ...]}),
from files/consumers.json: the one list the services' code subscribes from too
(libs/contracts/src/consumers.ts). Call with the usual context; `fromJson` the result.
*/}}
{{- define "cryptocare.consumerGroups" -}}
{{- $file := .root.Files.Get "files/consumers.json" | fromJson -}}
{{- if not $file.services -}}{{- fail "files/consumers.json is missing or has no \"services\"" -}}{{- end -}}
{{- index $file.services .name | default dict | toJson -}}
{{- end -}}

{{/* Consumer scaling guard: maxReplicas never above the partitions of a consumed topic. */}}
{{- define "cryptocare.checkPartitions" -}}
{{- $svc := .svc -}}
{{- range $group, $topics := include "cryptocare.consumerGroups" . | fromJson -}}
{{- range $t := $topics -}}
{{- $p := index $.root.Values.global.kafka.topics $t -}}
{{- if not $p -}}
{{- fail (printf "files/consumers.json: %s (group %s of %s) is not in global.kafka.topics" $t $group $.name) -}}
{{- end -}}
{{- if gt (int $svc.autoscaling.maxReplicas) (int $p) -}}
{{- fail (printf "services.%s.autoscaling.maxReplicas (%v) is above the %v partitions of %s: extra consumers would sit idle" $.name $svc.autoscaling.maxReplicas $p $t) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if gt (int $svc.autoscaling.minReplicas) (int $svc.autoscaling.maxReplicas) -}}
{{- fail (printf "services.%s.autoscaling: minReplicas above maxReplicas" .name) -}}
{{- end -}}
{{- end -}}

{{/* The pod template shared by Rollouts and Deployments. */}}
{{- define "cryptocare.podTemplate" -}}
{{- $root := .root -}}
{{- $g := $root.Values.global -}}
{{- $svc := .svc -}}
{{- $name := .name -}}
metadata:
  labels:
    {{- include "cryptocare.podLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
  annotations:
    checksum/config: {{ include "cryptocare.configData" . | sha256sum }}
    prometheus.io/port: {{ include "cryptocare.opsPort" . | quote }}
spec:
  serviceAccountName: {{ $name }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ $g.terminationGracePeriodSeconds }}
  {{- with $g.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    runAsNonRoot: true
    runAsUser: {{ $g.securityContext.runAsUser }}
    runAsGroup: {{ $g.securityContext.runAsGroup }}
    fsGroup: {{ $g.securityContext.fsGroup }}
    seccompProfile:
      type: RuntimeDefault
  topologySpreadConstraints:
    - maxSkew: 1
      topologyKey: topology.kubernetes.io/zone
      whenUnsatisfiable: {{ $g.topologySpread.zone }}
      labelSelector:
        matchLabels:
          {{- include "cryptocare.selectorLabels" . | nindent 10 }}
    - maxSkew: 1
      topologyKey: kubernetes.io/hostname
      whenUnsatisfiable: {{ $g.topologySpread.hostname }}
      labelSelector:
        matchLabels:
          {{- include "cryptocare.selectorLabels" . | nindent 10 }}
  containers:
    - name: {{ $name }}
      image: {{ include "cryptocare.image" . | quote }}
      imagePullPolicy: {{ $g.image.pullPolicy }}
      args: ["node", "dist/main.js"]
      ports:
        {{- if $svc.ports.grpc }}
        - name: grpc
          containerPort: {{ $svc.ports.grpc }}
          protocol: TCP
        {{- end }}
        {{- if $svc.ports.ops }}
        - name: http            # the public API (HTTP_PORT), the only port behind the Gateway
          containerPort: {{ $svc.ports.http }}
          protocol: TCP
        {{- end }}
        - name: ops             # /healthz /readyz /metrics: probes and Prometheus only
          containerPort: {{ include "cryptocare.opsPort" . }}
          protocol: TCP
      envFrom:
        - configMapRef:
            name: {{ $name }}-config
        {{- range $svc.secretRefs }}
        - secretRef:
            name: {{ . }}
        {{- end }}
      env:
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
      resources:
        {{- required (printf "services.%s.resources is required" $name) $svc.resources | toYaml | nindent 8 }}
      {{- if $svc.public }}
      startupProbe:
        httpGet: { path: /readyz, port: ops }
        periodSeconds: {{ $g.probes.startup.periodSeconds }}
        failureThreshold: {{ $g.probes.startup.failureThreshold }}
        timeoutSeconds: {{ $g.probes.startup.timeoutSeconds }}
      readinessProbe:
        httpGet: { path: /readyz, port: ops }
        periodSeconds: {{ $g.probes.readiness.periodSeconds }}
        failureThreshold: {{ $g.probes.readiness.failureThreshold }}
        timeoutSeconds: {{ $g.probes.readiness.timeoutSeconds }}
      {{- else }}
      startupProbe:
        grpc:
          port: {{ $svc.ports.grpc }}
          service: {{ $g.probes.grpcService | quote }}
        periodSeconds: {{ $g.probes.startup.periodSeconds }}
        failureThreshold: {{ $g.probes.startup.failureThreshold }}
        timeoutSeconds: {{ $g.probes.startup.timeoutSeconds }}
      readinessProbe:
        grpc:
          port: {{ $svc.ports.grpc }}
          service: {{ $g.probes.grpcService | quote }}
        periodSeconds: {{ $g.probes.readiness.periodSeconds }}
        failureThreshold: {{ $g.probes.readiness.failureThreshold }}
        timeoutSeconds: {{ $g.probes.readiness.timeoutSeconds }}
      {{- end }}
      livenessProbe:
        httpGet: { path: /healthz, port: ops }
        periodSeconds: {{ $g.probes.liveness.periodSeconds }}
        failureThreshold: {{ $g.probes.liveness.failureThreshold }}
        timeoutSeconds: {{ $g.probes.liveness.timeoutSeconds }}
      securityContext:
        runAsNonRoot: true
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities:
          drop: ["ALL"]
        seccompProfile:
          type: RuntimeDefault
      volumeMounts:
        - name: tmp
          mountPath: /tmp
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $g.tmpSizeLimit }}
{{- end -}}
