-- What Prisma cannot say: the database itself forbids overlapping bookings of one professional,
-- and confirmed bookings get a partial index (the plan's hot query).
-- In `public`, once per database: every schema (and test schema) shares it.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

ALTER TABLE "appointments"
  ADD CONSTRAINT "bookings_no_overlap"
  EXCLUDE USING gist ("professional_id" WITH =, tstzrange("start_at", "end_at") WITH &&)
  WHERE ("status" IN ('held', 'confirmed'));

CREATE INDEX "appointments_confirmed_by_professional"
  ON "appointments" ("professional_id", "start_at")
  WHERE "status" = 'confirmed';
