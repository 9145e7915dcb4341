-- A rejection (RejectProfessional) is never a verification and always has its reason, 1..500
-- characters, and its time. Hand-written (Prisma cannot say a CHECK), dropped first so that the
-- step can run again (docs/service-guide.md: no semicolon in comments).
ALTER TABLE "professionals" DROP CONSTRAINT IF EXISTS "professionals_review";

ALTER TABLE "professionals" ADD CONSTRAINT "professionals_review" CHECK (
  (rejected_at IS NULL AND rejection_reason IS NULL AND rejected_by IS NULL)
  OR (NOT verified AND rejected_at IS NOT NULL AND char_length(rejection_reason) BETWEEN 1 AND 500)
);
