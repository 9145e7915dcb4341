-- AlterTable
ALTER TABLE "invoices" ADD COLUMN     "traceparent" TEXT;
