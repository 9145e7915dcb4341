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
-- or delete a pruned prefix (recorded by an anchor entry). Anyone else is refused, and the chain's
-- hashes still reveal an edit made by someone who bypasses this (verify-audit).
CREATE FUNCTION "audit_entries_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('cryptocare.audit_retention', true) = 'on' THEN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER "audit_entries_append_only" BEFORE UPDATE OR DELETE ON "audit_entries" FOR EACH ROW EXECUTE FUNCTION "audit_entries_append_only"();
CREATE TRIGGER "audit_entries_no_truncate" BEFORE TRUNCATE ON "audit_entries" FOR EACH STATEMENT EXECUTE FUNCTION "audit_entries_append_only"();
