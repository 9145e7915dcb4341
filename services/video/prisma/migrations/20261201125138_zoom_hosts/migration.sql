-- AlterTable
ALTER TABLE "meetings" ADD COLUMN     "host_id" TEXT;

-- CreateTable
CREATE TABLE "zoom_hosts" (
    "zoom_user_id" TEXT NOT NULL,
    "professional_id" UUID,
    "kind" TEXT NOT NULL,
    "managed" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "zoom_hosts_pkey" PRIMARY KEY ("zoom_user_id")
);

-- CreateTable
CREATE TABLE "zoom_host_usage" (
    "zoom_user_id" TEXT NOT NULL,
    "day" DATE NOT NULL,
    "used" INTEGER NOT NULL,

    CONSTRAINT "zoom_host_usage_pkey" PRIMARY KEY ("zoom_user_id","day")
);

-- CreateTable
CREATE TABLE "zoom_host_reservations" (
    "id" UUID NOT NULL,
    "zoom_user_id" TEXT NOT NULL,
    "appointment_id" UUID NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "zoom_host_reservations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "zoom_hosts_professional_id_key" ON "zoom_hosts"("professional_id");

-- CreateIndex
CREATE INDEX "zoom_host_reservations_zoom_user_id_start_at_idx" ON "zoom_host_reservations"("zoom_user_id", "start_at");

-- CreateIndex
CREATE INDEX "zoom_host_reservations_appointment_id_idx" ON "zoom_host_reservations"("appointment_id");

-- Checks (not expressible in schema.prisma)
ALTER TABLE "zoom_hosts" ADD CONSTRAINT "zoom_hosts_kind_check" CHECK ("kind" IN ('professional', 'pool', 'account'));
ALTER TABLE "zoom_host_usage" ADD CONSTRAINT "zoom_host_usage_used_check" CHECK ("used" >= 0);
ALTER TABLE "zoom_host_reservations" ADD CONSTRAINT "zoom_host_reservations_window_check" CHECK ("end_at" > "start_at");
