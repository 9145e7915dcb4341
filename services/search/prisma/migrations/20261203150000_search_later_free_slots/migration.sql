-- appointment.availability_changed carries the free slots after the earliest one, and the notice
-- before a slot stops being bookable: search moves next_available_at along them as time passes
-- (DirectoryStore.moveAvailabilityOn, every few seconds), and appointment republishes a
-- professional only when they have run out. availability_moves_at is when next_available_at stops
-- being bookable, null when no later slot is known (nothing to move on to).
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
ALTER TABLE "professionals" ADD COLUMN IF NOT EXISTS "later_available_at" TIMESTAMPTZ(3)[] NOT NULL DEFAULT '{}';
ALTER TABLE "professionals" ADD COLUMN IF NOT EXISTS "minimum_notice_minutes" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "professionals" ADD COLUMN IF NOT EXISTS "availability_moves_at" TIMESTAMPTZ(3);

-- The sweep's walk: only the rows with somewhere to move on to, soonest due first.
CREATE INDEX IF NOT EXISTS "professionals_availability_moves_at_idx" ON "professionals" ("availability_moves_at")
  WHERE "availability_moves_at" IS NOT NULL;
