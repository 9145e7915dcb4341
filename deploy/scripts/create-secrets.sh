#!/usr/bin/env bash
# Creates (or updates) the Kubernetes Secrets the charts reference, without writing any secret to disk
# outside a private temporary directory that is removed on exit. Idempotent: existing generated
# passwords are kept.
#
#   deploy/scripts/create-secrets.sh staging ch      # in-cluster data stores (k8s/platform)
#   deploy/scripts/create-secrets.sh production eu   # managed data stores (terraform outputs)
#
# Reads from the environment (export them from your password manager first; unset ones are left out):
#   payment:  SBP_API_URL SBP_API_KEY SBP_API_SECRET BTCPAY_URL BTCPAY_API_KEY BTCPAY_STORE_ID
#             BTCPAY_WEBHOOK_SECRET PUBLIC_BASE_URL
#   video:    ZOOM_API_URL ZOOM_OAUTH_URL ZOOM_ACCOUNT_ID ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET JITSI_BASE_URL
#   identity: JWT_ISSUER
#   backups (staging on DigitalOcean): PG_BACKUP_ACCESS_KEY_ID PG_BACKUP_SECRET_ACCESS_KEY
#   managed databases (production), when not taken from `terraform output`:
#             <SERVICE>_DATABASE_URL <SERVICE>_DATABASE_DIRECT_URL [<SERVICE>_DATABASE_REPLICA_URL] REDIS_URL
#             (SERVICE in IDENTITY SEARCH APPOINTMENT PAYMENT VIDEO)
set -euo pipefail

ENV="${1:?usage: create-secrets.sh staging|production ch|eu}"
REGION="${2:?usage: create-secrets.sh staging|production ch|eu}"
KUBECTL="${KUBECTL:-kubectl}"
TERRAFORM="${TERRAFORM:-terraform}"
APP_NS="${APP_NS:-cryptocare}"
DATA_NS="${DATA_NS:-cryptocare-data}"
KAFKA_BROKERS="${KAFKA_BROKERS:-cryptocare-kafka-bootstrap.kafka.svc:9092}"
SERVICES=(identity search appointment payment video)
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

umask 077
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rand() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# existing KEY of Secret NAME in NAMESPACE, or nothing
existing() {
  "$KUBECTL" get secret "$2" -n "$1" -o "jsonpath={.data.$3}" 2>/dev/null | base64 -d 2>/dev/null || true
}

# apply_secret NAMESPACE NAME TYPE  (KEY=VALUE lines on stdin; empty values dropped)
apply_secret() {
  local ns=$1 name=$2 type=$3 file="$WORK/$2.env"
  grep -E '^[A-Za-z_][A-Za-z0-9_.-]*=.+' > "$file" || true
  if [[ ! -s "$file" ]]; then echo "skip   $ns/$name (nothing to put in it)"; return; fi
  "$KUBECTL" create secret generic "$name" -n "$ns" --type "$type" --from-env-file="$file" \
    --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
  echo "secret $ns/$name ($(cut -d= -f1 "$file" | paste -sd, -))"
}

case "$ENV" in
  staging)
    # In-cluster: CloudNativePG roles, Valkey password, URLs through the PgBouncer pooler.
    redis_pw="$(existing "$DATA_NS" redis-auth password)"; redis_pw="${redis_pw:-$(rand)}"
    printf 'password=%s\n' "$redis_pw" | apply_secret "$DATA_NS" redis-auth Opaque
    REDIS_URL="redis://:${redis_pw}@redis.${DATA_NS}.svc:6379"
    for svc in "${SERVICES[@]}"; do
      pw="$(existing "$DATA_NS" "pg-role-$svc" password)"; pw="${pw:-$(rand)}"
      printf 'username=%s\npassword=%s\n' "$svc" "$pw" | apply_secret "$DATA_NS" "pg-role-$svc" kubernetes.io/basic-auth
      declare "URL_$svc=postgresql://${svc}:${pw}@cryptocare-pg-pooler-rw.${DATA_NS}.svc:5432/cryptocare"
      declare "DIRECT_$svc=postgresql://${svc}:${pw}@cryptocare-pg-rw.${DATA_NS}.svc:5432/cryptocare"
      declare "REPLICA_$svc=postgresql://${svc}:${pw}@cryptocare-pg-ro.${DATA_NS}.svc:5432/cryptocare"
    done
    if [[ -n "${PG_BACKUP_ACCESS_KEY_ID:-}" ]]; then
      printf 'ACCESS_KEY_ID=%s\nACCESS_SECRET_KEY=%s\n' "$PG_BACKUP_ACCESS_KEY_ID" "${PG_BACKUP_SECRET_ACCESS_KEY:?}" \
        | apply_secret "$DATA_NS" pg-backup-s3 Opaque
    fi
    ;;
  production)
    # Managed: DigitalOcean environments expose per-service URLs as (sensitive) terraform outputs.
    tfdir="$ROOT/terraform/environments/$ENV-$REGION"
    outputs="$WORK/tf.json"
    if [[ -z "${SKIP_TERRAFORM_OUTPUTS:-}" ]] && "$TERRAFORM" -chdir="$tfdir" output -json > "$outputs" 2>/dev/null; then
      REDIS_URL="${REDIS_URL:-$(node -e 'const o=require(process.argv[1]);process.stdout.write(o.redis_url?.value??"")' "$outputs")}"
    else
      echo '{}' > "$outputs"
    fi
    for svc in "${SERVICES[@]}"; do
      up="$(echo "$svc" | tr a-z A-Z)"
      from_tf() { node -e 'const o=require(process.argv[1]);const v=o[process.argv[2]]?.value;process.stdout.write((v&&v[process.argv[3]])||"")' "$outputs" "$1" "$svc"; }
      u="${up}_DATABASE_URL"; d="${up}_DATABASE_DIRECT_URL"; r="${up}_DATABASE_REPLICA_URL"
      declare "URL_$svc=${!u:-$(from_tf service_pool_uris)}"
      declare "DIRECT_$svc=${!d:-$(from_tf service_direct_uris)}"
      declare "REPLICA_$svc=${!r:-}"
      v="URL_$svc"; [[ -n "${!v}" ]] || { echo "no DATABASE_URL for $svc: set ${up}_DATABASE_URL or apply terraform first" >&2; exit 1; }
    done
    : "${REDIS_URL:?set REDIS_URL or apply terraform first}"
    ;;
  *) echo "ENV must be staging or production" >&2; exit 1 ;;
esac

# Application Secrets (names as in charts/cryptocare/values.yaml secretRefs).
printf 'REDIS_URL=%s\nKAFKA_BROKERS=%s\n' "$REDIS_URL" "$KAFKA_BROKERS" | apply_secret "$APP_NS" cryptocare-gateway Opaque
for svc in "${SERVICES[@]}"; do
  u="URL_$svc"; d="DIRECT_$svc"; r="REPLICA_$svc"
  {
    printf 'DATABASE_URL=%s\nDATABASE_DIRECT_URL=%s\n' "${!u}" "${!d}"
    printf 'DATABASE_REPLICA_URL=%s\n' "${!r:-}"
    printf 'REDIS_URL=%s\nKAFKA_BROKERS=%s\n' "$REDIS_URL" "$KAFKA_BROKERS"
    [[ "$svc" == identity ]] && printf 'JWT_ISSUER=%s\n' "${JWT_ISSUER:-}"
    true
  } | apply_secret "$APP_NS" "cryptocare-$svc" Opaque
done
{
  for k in SBP_API_URL SBP_API_KEY SBP_API_SECRET BTCPAY_URL BTCPAY_API_KEY BTCPAY_STORE_ID BTCPAY_WEBHOOK_SECRET PUBLIC_BASE_URL; do
    printf '%s=%s\n' "$k" "${!k:-}"
  done
} | apply_secret "$APP_NS" cryptocare-payment-providers Opaque
{
  for k in ZOOM_API_URL ZOOM_OAUTH_URL ZOOM_ACCOUNT_ID ZOOM_CLIENT_ID ZOOM_CLIENT_SECRET JITSI_BASE_URL; do
    printf '%s=%s\n' "$k" "${!k:-}"
  done
} | apply_secret "$APP_NS" cryptocare-video-providers Opaque
echo "done: secrets for $ENV-$REGION"
