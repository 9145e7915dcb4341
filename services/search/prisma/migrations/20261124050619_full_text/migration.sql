-- Full text search over display name, city, specialties and bio: a generated tsvector column and
-- its GIN index. Prisma cannot say "GENERATED ALWAYS AS", so schema.prisma declares the column as
-- Unsupported("tsvector") and later migration diffs leave it alone.
-- NB: no semicolon may appear in comments or bodies here: the pg driver adapter of the migrate
-- CLI splits scripts on every semicolon and runs the pieces outside a transaction, hence the
-- idempotent statements (a half-applied run can be retried).
--
-- A generated column needs an immutable expression. array_to_string is only marked stable (it is
-- immutable for text[]), hence this wrapper. Its functions are qualified with pg_catalog, so it does not
-- depend on the caller's search_path. Weights: name A, specialties B, city C, bio D.
CREATE OR REPLACE FUNCTION "professional_search_document"(display_name text, city text, specialties text[], bio text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, coalesce(display_name, '')), 'A')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, coalesce(pg_catalog.array_to_string(specialties, ' '), '')), 'B')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, coalesce(city, '')), 'C')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, coalesce(bio, '')), 'D')
$$;

ALTER TABLE "professionals"
  ADD COLUMN IF NOT EXISTS "search_vector" tsvector
  GENERATED ALWAYS AS ("professional_search_document"("display_name", "city", "specialties", "bio")) STORED;

CREATE INDEX IF NOT EXISTS "professionals_search_vector_idx" ON "professionals" USING GIN ("search_vector");
