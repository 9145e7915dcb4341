-- Hand-written: what Prisma cannot say (check constraints, a partial index).

-- The state vocabulary, enforced by the database as well as by the code.
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_status_check" CHECK ("status" IN ('open', 'paid', 'expired', 'refund_due'));
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_payment_method_check" CHECK ("payment_method" IS NULL OR "payment_method" IN ('lightning', 'onchain'));
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_provider_state_check" CHECK ("provider_state" IN ('open', 'seen', 'paid', 'expired'));
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_currency_check" CHECK ("currency" IN ('CHF', 'EUR'));
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_amounts_check" CHECK ("amount" > 0 AND "sats" > 0);
ALTER TABLE "pending_invoice_requests" ADD CONSTRAINT "pending_invoice_requests_price_check" CHECK ("price_amount" > 0 AND "price_currency" IN ('CHF', 'EUR'));
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_status_check" CHECK ("status" IN ('due', 'paid'));

-- Reconciliation polls the invoices the provider may still settle: a partial index keeps that scan
-- small however many settled invoices accumulate.
CREATE INDEX "invoices_reconcile_idx" ON "invoices" ("last_checked_at" NULLS FIRST, "created_at") WHERE "provider_state" IN ('open', 'seen');

-- Webhook rows not yet processed, by invoice (reconciliation marks them when it settles one).
CREATE INDEX "webhook_inbox_unprocessed_idx" ON "webhook_inbox" ("provider", "provider_invoice_id", "received_at") WHERE "processed_at" IS NULL;
