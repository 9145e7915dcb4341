#!/usr/bin/env bash
# Writes a service's next migration: the SQL that takes its checked-in migrations to its current
# schema.prisma, computed offline by `prisma migrate diff` (no database needed).
# Usage: scripts/new-migration.sh <service> <name>
set -euo pipefail
svc="$1"; name="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/services/$svc"
export PRISMA_SCHEMA_ENGINE_BINARY="$root/package.json" PRISMA_QUERY_ENGINE_LIBRARY="$root/package.json" CHECKPOINT_DISABLE=1
# The CLI talks to PostgreSQL through the adapter of prisma.config.ts (shadow database included).
[[ -n "${DATABASE_URL:-}" ]] || source "$root/scripts/infra/env.sh"
cd "$dir"
mkdir -p prisma/migrations
echo 'provider = "postgresql"' > prisma/migrations/migration_lock.toml
stamp="$(date -u +%Y%m%d%H%M%S)"
out="prisma/migrations/${stamp}_${name}"
if ls prisma/migrations/*/migration.sql >/dev/null 2>&1; then
  from=(--from-migrations prisma/migrations)
else
  from=(--from-empty)
fi
sql="$("$root/node_modules/.bin/prisma" migrate diff "${from[@]}" --to-schema-datamodel prisma/schema.prisma --script)"
if [[ "$sql" == *"empty migration"* ]]; then echo "no changes"; exit 0; fi
mkdir -p "$out"
printf '%s\n' "$sql" > "$out/migration.sql"
echo "wrote $out/migration.sql"
