-- Searches without a place walk the profiles in availability order (earliest free slot first,
-- docs/search.md) and test each one against the filters: with professionals_next_available_at_id_idx
-- that is one heap page per profile walked (a few hundred for a specialty). These indexes carry the
-- filters' columns: the walk is an index-only scan, and only the page's profiles are read from the
-- table, by id. The country one replaces professionals_country_next_available_idx (same keys).
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
CREATE INDEX IF NOT EXISTS "professionals_soonest_idx" ON "professionals" ("next_available_at", "id")
  INCLUDE ("specialties", "languages", "country", "price_amount") WHERE "verified";

CREATE INDEX IF NOT EXISTS "professionals_country_soonest_idx" ON "professionals" ("country", "next_available_at", "id")
  INCLUDE ("specialties", "languages", "price_amount") WHERE "verified";

DROP INDEX IF EXISTS "professionals_country_next_available_idx";
