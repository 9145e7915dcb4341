-- Refunds recorded before the ledger stopped copying what the canceller typed: any reason that
-- is not one of the platform's own becomes the neutral one. Idempotent.
UPDATE "refunds"
   SET "reason" = 'booking cancelled'
 WHERE "reason" NOT IN ('booking cancelled', 'cancelled by the patient', 'cancelled by the professional', 'cancelled by the platform', 'professional left', 'paid after the booking was cancelled')
   AND "reason" NOT LIKE 'payment arrived too late: %';
