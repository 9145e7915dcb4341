-- The audit trail (docs/compliance/audit.md): hash-chained entries, append-only.
-- CreateTable
CREATE TABLE "audit_entries" (
    "seq" BIGINT NOT NULL,
    "id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "actor_id" UUID,
    "subject_id" UUID,
    "object_id" UUID,
    "details" JSONB,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "content_digest" TEXT NOT NULL,
    "prev_hash" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "pruned_at" TIMESTAMPTZ(3),

    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("seq")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_entries_id_key" ON "audit_entries"("id");

-- CreateIndex
CREATE INDEX "audit_entries_kind" ON "audit_entries"("kind", "seq");

-- CreateIndex
CREATE INDEX "audit_entries_actor" ON "audit_entries"("actor_id", "seq");

-- CreateIndex
CREATE INDEX "audit_entries_subject" ON "audit_entries"("subject_id", "seq");

-- CreateIndex
CREATE INDEX "audit_entries_occurred_at" ON "audit_entries"("occurred_at");

-- Append-only: an entry is never changed or deleted, except by the retention job, which sets
-- cryptocare.audit_retention = 'on' in its own transaction to prune content past its retention
-- or delete a pruned prefix (recorded by an anchor entry). Anyone else gets an error, and the
-- chain's hashes still reveal an edit made by someone who bypasses this (verify-audit).
-- Rules, not a trigger: the migrate CLI splits scripts on every semicolon, so no plpgsql body.
-- The refusal is an SQL function failing at run time with the message in its error (its SET
-- clause keeps the planner from inlining it and folding the failing cast before the condition).
CREATE OR REPLACE FUNCTION "audit_entries_refuse"(op text) RETURNS int LANGUAGE sql VOLATILE SET search_path = pg_catalog
AS $$ SELECT CAST('audit entries are append-only (' || op || ' refused)' AS int) $$;

CREATE OR REPLACE RULE "audit_entries_no_update" AS ON UPDATE TO "audit_entries"
  WHERE current_setting('cryptocare.audit_retention', true) IS DISTINCT FROM 'on'
  DO INSTEAD SELECT "audit_entries_refuse"('UPDATE');

CREATE OR REPLACE RULE "audit_entries_no_delete" AS ON DELETE TO "audit_entries"
  WHERE current_setting('cryptocare.audit_retention', true) IS DISTINCT FROM 'on'
  DO INSTEAD SELECT "audit_entries_refuse"('DELETE');
