-- AlterTable
ALTER TABLE "professionals" ADD COLUMN     "rejected_at" TIMESTAMPTZ(3),
ADD COLUMN     "rejected_by" UUID,
ADD COLUMN     "rejection_reason" TEXT;
