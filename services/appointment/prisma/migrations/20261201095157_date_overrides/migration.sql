-- CreateTable
CREATE TABLE "date_overrides" (
    "professional_id" UUID NOT NULL,
    "date" DATE NOT NULL,
    "ranges" JSONB NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "date_overrides_pkey" PRIMARY KEY ("professional_id","date")
);
