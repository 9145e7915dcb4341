-- DropIndex
DROP INDEX "invoices_appointment_id_key";

-- AlterTable
ALTER TABLE "invoices" ADD COLUMN     "hold_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'booking';

-- CreateTable
CREATE TABLE "top_up_requests" (
    "appointment_id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "amount" DECIMAL(10,2) NOT NULL,
    "currency" TEXT NOT NULL,
    "shortfall_sats" BIGINT NOT NULL,
    "hold_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT,
    "locked_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "top_up_requests_pkey" PRIMARY KEY ("appointment_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "top_up_requests_invoice_id_key" ON "top_up_requests"("invoice_id");

-- CreateIndex
CREATE INDEX "top_up_requests_next_attempt_at_idx" ON "top_up_requests"("next_attempt_at");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_appointment_id_kind_key" ON "invoices"("appointment_id", "kind");

-- Hand-written: the vocabulary, enforced by the database as well.
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_kind_check" CHECK ("kind" IN ('booking', 'top_up'));
ALTER TABLE "top_up_requests" ADD CONSTRAINT "top_up_requests_amounts_check" CHECK ("amount" > 0 AND "shortfall_sats" > 0 AND "currency" IN ('CHF', 'EUR'));
ALTER TABLE "ledger_entries" DROP CONSTRAINT "ledger_entries_kind_check";
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_kind_check" CHECK ("kind" IN ('invoice_created', 'top_up_created', 'shortfall_carried', 'paid', 'over', 'under', 'refund_due', 'refund_paid'));
