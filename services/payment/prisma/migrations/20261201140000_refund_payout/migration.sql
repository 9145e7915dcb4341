-- AlterTable
ALTER TABLE "refunds" ADD COLUMN     "paid_at" TIMESTAMPTZ(3),
ADD COLUMN     "paid_by" UUID,
ADD COLUMN     "tx_reference" TEXT;

-- CreateIndex
CREATE INDEX "refunds_status_created_at_id_idx" ON "refunds"("status", "created_at", "id");
