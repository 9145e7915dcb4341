-- CreateTable
CREATE TABLE "ledger_entries" (
    "id" UUID NOT NULL,
    "appointment_id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "sats" BIGINT NOT NULL,
    "fiat_minor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "rate" DECIMAL(18,2) NOT NULL,
    "provider" TEXT NOT NULL,
    "provider_invoice_id" TEXT NOT NULL,
    "refund_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "ledger_entries_appointment_id_created_at_idx" ON "ledger_entries"("appointment_id", "created_at");

-- CreateIndex
CREATE INDEX "ledger_entries_invoice_id_created_at_idx" ON "ledger_entries"("invoice_id", "created_at");

-- CreateIndex
CREATE INDEX "ledger_entries_created_at_idx" ON "ledger_entries"("created_at");

-- Hand-written: the vocabulary and the amounts, enforced by the database as well.
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_kind_check" CHECK ("kind" IN ('invoice_created', 'paid', 'over', 'under', 'refund_due', 'refund_paid'));
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_amounts_check" CHECK ("sats" > 0 AND "fiat_minor" >= 0 AND "rate" > 0);
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_currency_check" CHECK ("currency" IN ('CHF', 'EUR'));

-- Append-only: a movement is never changed or deleted (a correction is a new movement). Rules, not
-- a trigger: the migrate CLI splits scripts on every semicolon, so no plpgsql body (as the audit
-- trail's). The refusal is an SQL function failing at run time with the message in its error.
CREATE OR REPLACE FUNCTION "ledger_entries_refuse"(op text) RETURNS int LANGUAGE sql VOLATILE SET search_path = pg_catalog
AS $$ SELECT CAST('ledger entries are append-only (' || op || ' refused)' AS int) $$;

CREATE OR REPLACE RULE "ledger_entries_no_update" AS ON UPDATE TO "ledger_entries"
  DO INSTEAD SELECT "ledger_entries_refuse"('UPDATE');

CREATE OR REPLACE RULE "ledger_entries_no_delete" AS ON DELETE TO "ledger_entries"
  DO INSTEAD SELECT "ledger_entries_refuse"('DELETE');
