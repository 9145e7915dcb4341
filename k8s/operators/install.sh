#!/usr/bin/env bash
# Installs (or upgrades) the operators the platform and the cryptocare chart rely on, with pinned
# chart versions (versions.env) and the values in values/. Idempotent: run it again to upgrade.
#   k8s/operators/install.sh            # all of them
#   k8s/operators/install.sh keda       # one of them
# Needs: kubectl pointing at the cluster, helm 3 (scripts/tools/helm.sh builds one).
set -euo pipefail
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$DIR/versions.env"
HELM="${HELM:-helm}"
ONLY="${1:-all}"

want() { [[ "$ONLY" == all || "$ONLY" == "$1" ]]; }
install() { # release namespace chart version values-file [extra args...]
  local release=$1 ns=$2 chart=$3 version=$4 values=$5; shift 5
  echo "==> $release ($chart $version) in $ns"
  "$HELM" upgrade --install "$release" "$chart" --version "$version" \
    --namespace "$ns" --create-namespace -f "$DIR/values/$values" --wait --timeout 10m "$@"
}

"$HELM" repo add jetstack https://charts.jetstack.io --force-update >/dev/null
"$HELM" repo add prometheus-community https://prometheus-community.github.io/helm-charts --force-update >/dev/null
"$HELM" repo add kedacore https://kedacore.github.io/charts --force-update >/dev/null
"$HELM" repo add argo https://argoproj.github.io/argo-helm --force-update >/dev/null
"$HELM" repo add cnpg https://cloudnative-pg.github.io/charts --force-update >/dev/null
"$HELM" repo add metrics-server https://kubernetes-sigs.github.io/metrics-server/ --force-update >/dev/null
"$HELM" repo add external-secrets https://charts.external-secrets.io --force-update >/dev/null
"$HELM" repo add open-telemetry https://open-telemetry.github.io/opentelemetry-helm-charts --force-update >/dev/null
"$HELM" repo add grafana-community https://grafana-community.github.io/helm-charts --force-update >/dev/null
"$HELM" repo update >/dev/null

# The public edge: Envoy Gateway (Gateway API; its chart brings the Gateway API CRDs). ingress-nginx,
# retired upstream in March 2026, is no longer installed: remove a previous one after the switch
# (docs/edge-gateway.md, "Moving a cluster off ingress-nginx").
want envoy-gateway && install envoy-gateway envoy-gateway-system oci://docker.io/envoyproxy/gateway-helm "$ENVOY_GATEWAY_VERSION" envoy-gateway.yaml
# cert-manager after Envoy Gateway: its Gateway API support needs the Gateway API CRDs at start.
want cert-manager && install cert-manager cert-manager jetstack/cert-manager "$CERT_MANAGER_VERSION" cert-manager.yaml
# Secrets from AWS Secrets Manager (docs/secrets.md). Before the platform and the chart: their
# ExternalSecrets need its CRDs. EU only: the reader's access key, once, by hand (docs/secrets.md).
want external-secrets && install external-secrets external-secrets external-secrets/external-secrets "$EXTERNAL_SECRETS_VERSION" external-secrets.yaml
want monitoring && install kube-prometheus-stack monitoring prometheus-community/kube-prometheus-stack "$KUBE_PROMETHEUS_STACK_VERSION" kube-prometheus-stack.yaml
# Traces: Tempo (the backend), then the OpenTelemetry Collector the services send to (docs/alerting.md).
if want observability; then
  install tempo observability grafana-community/tempo "$TEMPO_CHART_VERSION" tempo.yaml
  install otel-collector observability open-telemetry/opentelemetry-collector "$OTEL_COLLECTOR_CHART_VERSION" opentelemetry-collector.yaml
fi
# KEDA's cpu trigger needs the resource metrics API: DOKS ships metrics-server, EKS does not.
if want metrics-server; then
  if kubectl get apiservice v1beta1.metrics.k8s.io >/dev/null 2>&1 && ! "$HELM" status metrics-server -n kube-system >/dev/null 2>&1; then
    echo "==> metrics-server: the cluster already serves metrics.k8s.io, skipped"
  else
    install metrics-server kube-system metrics-server/metrics-server "$METRICS_SERVER_VERSION" metrics-server.yaml
  fi
fi
want keda && install keda keda kedacore/keda "$KEDA_VERSION" keda.yaml
want argo-rollouts && install argo-rollouts argo-rollouts argo/argo-rollouts "$ARGO_ROLLOUTS_VERSION" argo-rollouts.yaml
if want strimzi; then
  install strimzi kafka oci://quay.io/strimzi-helm/strimzi-kafka-operator "$STRIMZI_VERSION" strimzi.yaml
  kubectl label namespace kafka pod-security.kubernetes.io/enforce=baseline --overwrite
fi
if want cnpg; then
  install cnpg cnpg-system cnpg/cloudnative-pg "$CNPG_VERSION" cloudnative-pg.yaml
  # Backups (WAL archive and base backups) go through the Barman Cloud plugin (needs cert-manager).
  install plugin-barman-cloud cnpg-system cnpg/plugin-barman-cloud "$CNPG_BARMAN_PLUGIN_VERSION" plugin-barman-cloud.yaml
fi
if want issuers; then
  kubectl apply -f "$DIR/cluster-issuers.yaml"
fi
echo "operators ready"
