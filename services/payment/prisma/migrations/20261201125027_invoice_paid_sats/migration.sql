-- AlterTable
ALTER TABLE "invoices" ADD COLUMN     "paid_sats" BIGINT;

-- Hand-written: an amount received is never negative.
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_paid_sats_check" CHECK ("paid_sats" IS NULL OR "paid_sats" >= 0);
