-- Typos are forgiven (trigrams) only when the words as typed find no profile by full text
-- (resolveText): a city or a name outside search_synonyms (`Bordeaux`) had every profile walked
-- tested by trigrams as well, 22 ms for general practitioners in Bordeaux against 2. Asked as a
-- plain EXISTS, the planner expects a match soon (it cannot count prefix terms) and reads the table
-- until the first one: for a typo that is every profile, 30 ms at 50 000. Here only the full-text
-- index answers (under a millisecond, found or not), hence the planner setting.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
CREATE OR REPLACE FUNCTION "search_finds"(words tsquery)
RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path FROM CURRENT
SET enable_seqscan = off
SET enable_indexscan = off
AS $$
  SELECT EXISTS (SELECT 1 FROM "professionals" p WHERE p.verified AND p.search_vector OPERATOR(pg_catalog.@@) words)
$$;
