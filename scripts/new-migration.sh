#!/usr/bin/env bash
# Writes a service's next migration: the SQL that takes its checked-in migrations to its current
# schema.prisma, computed by `prisma migrate diff` in a throwaway database.
# Usage: scripts/new-migration.sh <service> <name>
set -euo pipefail
svc="$1"; name="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/services/$svc"
export PRISMA_SCHEMA_ENGINE_BINARY="$root/package.json" PRISMA_QUERY_ENGINE_LIBRARY="$root/package.json" CHECKPOINT_DISABLE=1
# The CLI talks to PostgreSQL through the adapter of prisma.config.ts; it gets a throwaway database
# of the local server (scripts/infra), so a diff never touches the development data.
source "$root/scripts/infra/env.sh"
scratch="cc_migration_$$"
admin_url="$DATABASE_URL"
psql -q "$admin_url" -c "CREATE DATABASE $scratch" >/dev/null
trap 'psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $scratch WITH (FORCE)" >/dev/null' EXIT
export DATABASE_URL="${DATABASE_URL%/*}/$scratch"
cd "$dir"
mkdir -p prisma/migrations
echo 'provider = "postgresql"' > prisma/migrations/migration_lock.toml
stamp="$(date -u +%Y%m%d%H%M%S)"
out="prisma/migrations/${stamp}_${name}"
if ls prisma/migrations/*/migration.sql >/dev/null 2>&1; then
  # The committed schema.prisma is what the checked-in migrations produce (a migration is always
  # committed with its schema change), so the next migration is the diff from it.
  previous="$(mktemp -d)/schema.prisma"
  git -C "$root" show "HEAD:services/$svc/prisma/schema.prisma" > "$previous"
  from=(--from-schema-datamodel "$previous")
else
  from=(--from-empty)
fi
sql="$("$root/node_modules/.bin/prisma" migrate diff "${from[@]}" --to-schema-datamodel prisma/schema.prisma --script)"
if [[ "$sql" == *"empty migration"* ]]; then echo "no changes"; exit 0; fi
mkdir -p "$out"
printf '%s\n' "$sql" > "$out/migration.sql"
echo "wrote $out/migration.sql"
