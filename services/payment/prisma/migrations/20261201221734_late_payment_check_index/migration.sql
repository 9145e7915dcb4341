-- The late-payment check polls invoices the provider expired (BTCPay still takes on-chain payments
-- to them, flagged PaidLate), least recently checked first: a partial index keeps it off the rest.
CREATE INDEX "invoices_late_check_idx" ON "invoices" ("last_checked_at" NULLS FIRST, "created_at") WHERE "provider_state" = 'expired';
