-- AlterTable
ALTER TABLE "appointments" ADD COLUMN     "no_show_by" TEXT;
