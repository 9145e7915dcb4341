-- When the earliest free slot last published for search stops being true as time passes: the
-- moment that slot can no longer be booked (its start minus the minimum notice), or an hour later
-- when none was free (the horizon moves on). The booking sweeper republishes from here (docs/search.md).
ALTER TABLE "schedules" ADD COLUMN IF NOT EXISTS "availability_stale_at" TIMESTAMPTZ(3);
CREATE INDEX IF NOT EXISTS "schedules_availability_stale_at_idx" ON "schedules"("availability_stale_at");
