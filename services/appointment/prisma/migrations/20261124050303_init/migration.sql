-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "appointment";

-- CreateTable
CREATE TABLE "schedules" (
    "professional_id" UUID NOT NULL,
    "time_zone" TEXT NOT NULL,
    "rules" JSONB NOT NULL,
    "slot_minutes" INTEGER NOT NULL,
    "buffer_minutes" INTEGER NOT NULL,
    "minimum_notice_minutes" INTEGER NOT NULL,
    "horizon_days" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "schedules_pkey" PRIMARY KEY ("professional_id")
);

-- CreateTable
CREATE TABLE "time_off" (
    "id" UUID NOT NULL,
    "professional_id" UUID NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "reason" TEXT NOT NULL DEFAULT '',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "time_off_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "appointments" (
    "id" UUID NOT NULL,
    "patient_id" UUID NOT NULL,
    "professional_id" UUID NOT NULL,
    "start_at" TIMESTAMPTZ(3) NOT NULL,
    "end_at" TIMESTAMPTZ(3) NOT NULL,
    "status" TEXT NOT NULL,
    "hold_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "price_amount" DECIMAL(10,2) NOT NULL,
    "price_currency" TEXT NOT NULL,
    "invoice_id" TEXT,
    "meeting_join_url" TEXT,
    "meeting_provider" TEXT,
    "meeting_password" TEXT,
    "idempotency_key" TEXT,
    "cancel_reason" TEXT,
    "cancelled_by" TEXT,
    "confirmed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "appointments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "key" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "payload" BYTEA NOT NULL,
    "traceparent" TEXT,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "processed_events" (
    "consumer" TEXT NOT NULL,
    "event_id" UUID NOT NULL,
    "processed_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "processed_events_pkey" PRIMARY KEY ("consumer","event_id")
);

-- CreateIndex
CREATE INDEX "time_off_professional_id_start_at_idx" ON "time_off"("professional_id", "start_at");

-- CreateIndex
CREATE INDEX "appointments_professional_id_start_at_status_idx" ON "appointments"("professional_id", "start_at", "status");

-- CreateIndex
CREATE INDEX "appointments_patient_id_start_at_idx" ON "appointments"("patient_id", "start_at");

-- CreateIndex
CREATE INDEX "appointments_status_hold_expires_at_idx" ON "appointments"("status", "hold_expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "appointments_patient_id_idempotency_key_key" ON "appointments"("patient_id", "idempotency_key");

-- CreateIndex
CREATE INDEX "outbox_created_at" ON "outbox"("created_at", "id");
