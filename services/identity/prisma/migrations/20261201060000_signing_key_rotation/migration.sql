-- Signing-key rotation with overlap: a key is published (in the JWKS) from created_at, signs from
-- activates_at, and leaves the JWKS at retired_at (which may lie in the future). Existing keys were
-- active from their creation. private_jwk now holds an AES-256-GCM envelope (the service encrypts
-- plaintext rows at start: see services/identity/src/store/signing-keys.ts).
ALTER TABLE "signing_keys" ADD COLUMN "activates_at" TIMESTAMPTZ(3);
UPDATE "signing_keys" SET "activates_at" = "created_at" WHERE "activates_at" IS NULL;
ALTER TABLE "signing_keys" ALTER COLUMN "activates_at" SET NOT NULL;
ALTER TABLE "signing_keys" ALTER COLUMN "activates_at" SET DEFAULT CURRENT_TIMESTAMP;
CREATE INDEX "signing_keys_activates_at" ON "signing_keys" ("activates_at");
