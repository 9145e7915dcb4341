-- AlterTable
ALTER TABLE "refunds" ADD COLUMN     "claim_link" TEXT,
ADD COLUMN     "payout_id" TEXT,
ADD COLUMN     "payout_locked_until" TIMESTAMPTZ(3),
ADD COLUMN     "sent_at" TIMESTAMPTZ(3);

-- Hand-written: a refund the provider pays out (BTCPay's pull payment) is "sent" until its payout completes.
ALTER TABLE "refunds" DROP CONSTRAINT "refunds_status_check";
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_status_check" CHECK ("status" IN ('due', 'sent', 'paid'));

-- One payout per refund, and a payout belongs to one refund.
CREATE UNIQUE INDEX "refunds_payout_id_key" ON "refunds" ("payout_id") WHERE "payout_id" IS NOT NULL;
