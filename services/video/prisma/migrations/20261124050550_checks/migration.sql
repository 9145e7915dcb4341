-- What Prisma cannot say: the closed sets of providers and states, and a sane duration.
ALTER TABLE "meetings"
  ADD CONSTRAINT "meetings_provider_check" CHECK ("provider" IN ('zoom', 'jitsi')),
  ADD CONSTRAINT "meetings_status_check" CHECK ("status" IN ('active', 'deleted')),
  ADD CONSTRAINT "meetings_duration_check" CHECK ("duration_minutes" > 0);
