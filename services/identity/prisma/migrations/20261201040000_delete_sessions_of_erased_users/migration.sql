-- Users erased before erasure deleted their sign-ins: their refresh-token history goes. Idempotent.
DELETE FROM "refresh_tokens" WHERE "user_id" IN (SELECT "id" FROM "users" WHERE "erased_at" IS NOT NULL);
