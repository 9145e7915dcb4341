-- Filters served together (docs/search.md, found by `make bench-profile` at 50 000 profiles): a
-- search by specialty, language and country intersected three indexes and read every row of the
-- country (12 ms), and a broad specialty in one country walked the whole availability order.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
--
-- btree_gin (trusted) lets one GIN index hold the arrays and the country: the intersection
-- happens inside the index and only matching rows are read.
CREATE EXTENSION IF NOT EXISTS btree_gin WITH SCHEMA public;

CREATE INDEX IF NOT EXISTS "professionals_filters_idx" ON "professionals" USING GIN ("specialties", "languages", "country") WHERE "verified";

-- One country in availability order: a broad specialty there reads a few hundred rows of it.
CREATE INDEX IF NOT EXISTS "professionals_country_next_available_idx" ON "professionals" ("country", "next_available_at", "id") WHERE "verified";
