-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "search";

-- CreateTable
CREATE TABLE "professionals" (
    "id" UUID NOT NULL,
    "display_name" TEXT NOT NULL,
    "specialties" TEXT[],
    "languages" TEXT[],
    "country" TEXT NOT NULL,
    "city" TEXT NOT NULL,
    "latitude" DOUBLE PRECISION NOT NULL,
    "longitude" DOUBLE PRECISION NOT NULL,
    "price_amount" DECIMAL(10,2) NOT NULL,
    "price_currency" TEXT NOT NULL,
    "consultation_minutes" INTEGER NOT NULL,
    "time_zone" TEXT NOT NULL,
    "bio" TEXT NOT NULL DEFAULT '',
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "next_available_at" TIMESTAMPTZ(3),
    "availability_as_of" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "professionals_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "specialties" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "specialties_pkey" PRIMARY KEY ("code")
);

-- CreateTable
CREATE TABLE "countries" (
    "code" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "currency" TEXT NOT NULL,

    CONSTRAINT "countries_pkey" PRIMARY KEY ("code")
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
CREATE INDEX "professionals_specialties_idx" ON "professionals" USING GIN ("specialties");

-- CreateIndex
CREATE INDEX "professionals_languages_idx" ON "professionals" USING GIN ("languages");

-- CreateIndex
CREATE INDEX "professionals_country_idx" ON "professionals"("country");

-- CreateIndex
CREATE INDEX "professionals_latitude_longitude_idx" ON "professionals"("latitude", "longitude");

-- CreateIndex
CREATE INDEX "professionals_next_available_at_id_idx" ON "professionals"("next_available_at", "id");

-- CreateIndex
CREATE INDEX "outbox_created_at" ON "outbox"("created_at", "id");

-- AddForeignKey
ALTER TABLE "professionals" ADD CONSTRAINT "professionals_country_fkey" FOREIGN KEY ("country") REFERENCES "countries"("code") ON DELETE RESTRICT ON UPDATE CASCADE;
