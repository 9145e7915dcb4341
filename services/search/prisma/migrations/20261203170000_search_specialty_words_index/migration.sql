-- Words typed with a specialty (a city and a specialty, the web client's usual search) were the
-- platform's most expensive statement at 2 000 users: 4.6-5.6 ms each, most of it the words' own
-- bitmap (every profile of a large city, 2 700-4 300 of 50 000) before it met the specialty's
-- (bench/results/load-2026-12-03-*: pg_stat_statements during the hold). One GIN index over both
-- columns finds the profiles that have both inside the index: 1.9-2.4 ms for the same shapes. The
-- languages between them let it serve a language asked with the words as well (2.0-2.2 ms), though
-- the planner may still cost professionals_filters_idx ANDed with the words about the same.
-- Words alone keep professionals_search_vector_idx.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
CREATE INDEX IF NOT EXISTS "professionals_specialty_words_idx" ON "professionals" USING gin ("specialties", "languages", "search_vector") WHERE "verified";
