-- Bookings of patients erased before erasure removed what people wrote: the Idempotency-Key and
-- the cancel reasons a person wrote go (the platform's own reasons stay). Idempotent.
UPDATE "appointments"
   SET "idempotency_key" = NULL,
       "cancel_reason" = CASE WHEN "cancelled_by" IN ('patient', 'professional') THEN NULL ELSE "cancel_reason" END
 WHERE "patient_id" = '00000000-0000-0000-0000-000000000000'
   AND ("idempotency_key" IS NOT NULL OR ("cancel_reason" IS NOT NULL AND "cancelled_by" IN ('patient', 'professional')));
