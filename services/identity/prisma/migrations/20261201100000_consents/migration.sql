-- Consent (docs/compliance/audit.md, docs/legal): the documents (loaded from docs/legal at start;
-- a published text never changes) and every grant and withdrawal, one row each, never updated.
CREATE TABLE "consent_documents" (
    "kind" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "lang" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "published_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_documents_pkey" PRIMARY KEY ("kind","version","lang")
);

CREATE INDEX "consent_documents_current" ON "consent_documents"("kind", "published_at");

CREATE TABLE "consents" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "kind" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "lang" TEXT NOT NULL,
    "text_sha256" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consents_pkey" PRIMARY KEY ("id")
);

CREATE INDEX "consents_user" ON "consents"("user_id", "kind", "at");
