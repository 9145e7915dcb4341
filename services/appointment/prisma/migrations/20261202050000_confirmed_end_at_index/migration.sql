-- The completion sweep (finishedConsultations: confirmed bookings whose consultation has ended,
-- oldest first) ran every 10 s as a sequential scan of every booking: 148 ms at 417 000 bookings
-- with none due (bench-load's directory). Confirmed ones by their end serve it from an index.
CREATE INDEX IF NOT EXISTS "appointments_confirmed_by_end"
  ON "appointments" ("end_at")
  WHERE "status" = 'confirmed';
