-- AlterTable
ALTER TABLE "meetings" ADD COLUMN     "ended_at" TIMESTAMPTZ(3),
ADD COLUMN     "guest_joined_at" TIMESTAMPTZ(3),
ADD COLUMN     "host_joined_at" TIMESTAMPTZ(3),
ADD COLUMN     "started_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "zoom_webhook_inbox" (
    "id" UUID NOT NULL,
    "event_key" TEXT NOT NULL,
    "event" TEXT NOT NULL,
    "zoom_meeting_id" TEXT NOT NULL,
    "raw_body" BYTEA NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processed_at" TIMESTAMPTZ(3),

    CONSTRAINT "zoom_webhook_inbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "zoom_webhook_inbox_event_key_key" ON "zoom_webhook_inbox"("event_key");

-- CreateIndex
CREATE INDEX "meetings_provider_provider_meeting_id_idx" ON "meetings"("provider", "provider_meeting_id");
