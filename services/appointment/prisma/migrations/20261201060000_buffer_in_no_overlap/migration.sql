-- The professional's buffer after a booking is enforced by the database like the booking itself:
-- each booking blocks [start_at, blocked_until) with blocked_until = end_at + the buffer of the
-- schedule when it was booked. Two bookings A, B of one professional (A first) then conflict
-- exactly when B.start_at < A.end_at + buffer, whichever is inserted first. That is the rule the
-- slot computation applies (domain/slots.ts: a slot is dropped within the buffer of a booking on
-- either side).
ALTER TABLE "appointments" ADD COLUMN "blocked_until" TIMESTAMPTZ(3);

-- Backfill: end + the current buffer, but never into the next open booking of the professional
-- (bookings accepted before this rule stay valid, only the new constraint's room is clamped).
UPDATE "appointments" AS a
   SET "blocked_until" = GREATEST(a."end_at", LEAST(
         a."end_at" + make_interval(mins => COALESCE(s."buffer_minutes", 0)),
         COALESCE((SELECT min(n."start_at") FROM "appointments" AS n
                    WHERE n."professional_id" = a."professional_id" AND n."id" <> a."id"
                      AND n."status" IN ('held', 'confirmed') AND n."start_at" >= a."end_at"), 'infinity')))
  FROM (SELECT a2."id", s2."buffer_minutes" FROM "appointments" AS a2
          LEFT JOIN "schedules" AS s2 ON s2."professional_id" = a2."professional_id") AS s
 WHERE s."id" = a."id";

-- Nullable: a row written without it (a script) blocks [start_at, end_at) as before. No trigger
-- fills it in: Prisma's migration runner splits scripts at every semicolon, even in a function body.
ALTER TABLE "appointments" ADD CONSTRAINT "appointments_blocked_until_after_end" CHECK ("blocked_until" >= "end_at");

ALTER TABLE "appointments" DROP CONSTRAINT "bookings_no_overlap";
ALTER TABLE "appointments"
  ADD CONSTRAINT "bookings_no_overlap"
  EXCLUDE USING gist ("professional_id" WITH =, tstzrange("start_at", COALESCE("blocked_until", "end_at")) WITH &&)
  WHERE ("status" IN ('held', 'confirmed'));
