-- AlterTable
ALTER TABLE "refunds" ADD COLUMN     "destination" TEXT,
ADD COLUMN     "destination_kind" TEXT,
ADD COLUMN     "destination_set_at" TIMESTAMPTZ(3);
