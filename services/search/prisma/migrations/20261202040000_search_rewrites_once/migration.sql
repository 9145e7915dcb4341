-- A place's spelling was rewritten into all its spellings, and ts_rewrite then rewrote those again
-- (each spelling is a target too): `zurich` became nine prefix terms for three spellings, and each
-- prefix term is one more partial match in the GIN index (at 50 000 profiles the index scan of a
-- city took 5.9 ms, with each spelling once 2.3 ms). The words of a substitute now carry a mark no
-- target has (`_`: targets are [a-z0-9]+, search_synonyms_term_check), so no rule matches them again,
-- and search_query drops the mark where it makes every word a prefix.
DROP MATERIALIZED VIEW IF EXISTS "search_rewrites";
CREATE MATERIALIZED VIEW "search_rewrites" AS
  SELECT pg_catalog.quote_literal(s.term)::tsquery AS target,
         (SELECT pg_catalog.string_agg(pg_catalog.quote_literal('_' || w.word), ' | ' ORDER BY w.word)
            FROM (SELECT s.term AS word
                  UNION SELECT s.meaning WHERE s.kind = 'specialty'
                  UNION SELECT o.term FROM "search_synonyms" o WHERE o.kind = 'place' AND s.kind = 'place' AND o.meaning = s.meaning) w
         )::tsquery AS substitute
    FROM "search_synonyms" s;

CREATE OR REPLACE FUNCTION "search_query"(query text)
RETURNS tsquery
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path FROM CURRENT
AS $$
  SELECT CASE WHEN f.folded ~ '(^|[[:space:]])-' THEN f.expanded
         ELSE f.expanded
           || pg_catalog.websearch_to_tsquery('pg_catalog.english'::pg_catalog.regconfig, f.folded)
           || pg_catalog.websearch_to_tsquery('pg_catalog.french'::pg_catalog.regconfig, f.folded)
           || pg_catalog.websearch_to_tsquery('pg_catalog.german'::pg_catalog.regconfig, f.folded)
           || pg_catalog.websearch_to_tsquery('pg_catalog.italian'::pg_catalog.regconfig, f.folded)
         END
    FROM (SELECT w.folded,
                 pg_catalog.regexp_replace(
                   pg_catalog.ts_rewrite(pg_catalog.websearch_to_tsquery('pg_catalog.simple'::pg_catalog.regconfig, w.folded), 'SELECT target, substitute FROM search_rewrites')::text,
                   '''_?((?:[^'']|'''')+)''', '''\1'':*', 'g')::tsquery AS expanded
            FROM (SELECT public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(query)) AS folded) w) f
$$;
