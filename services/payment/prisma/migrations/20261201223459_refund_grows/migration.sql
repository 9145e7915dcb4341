-- DropIndex
DROP INDEX "refunds_invoice_id_key";

-- CreateIndex
CREATE INDEX "refunds_invoice_id_created_at_idx" ON "refunds"("invoice_id", "created_at");

-- Hand-written: one refund of an invoice is due at a time (money owed after one was sent or paid
-- is a further row, and only then).
CREATE UNIQUE INDEX "refunds_one_due_per_invoice" ON "refunds" ("invoice_id") WHERE "status" = 'due';
