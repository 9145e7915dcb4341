-- Search people can type (docs/search.md): accent-insensitive, typo-tolerant full text in
-- fr/de/it/en with specialty synonyms and city names in their language variants, and distance
-- served by a spatial index.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
--
-- Extensions live in public, once per database (appointment puts btree_gist there too). unaccent,
-- pg_trgm and cube are trusted extensions: the service's role may create them. earthdistance is
-- not trusted, hence our own earth_position over cube.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;

-- Folding: lower case without accents (Zürich = zurich, Genève = geneve, ß = ss). unaccent is
-- only marked stable (its dictionary could change), so indexed expressions need this wrapper.
-- Bodies qualify every name: they must not depend on the caller's search_path.
CREATE OR REPLACE FUNCTION "search_fold"(value text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
  SELECT public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(value))
$$;

-- The full text document, folded. Name, specialty codes, city and bio as written (simple, weights
-- A, B, C, D), and all of them stemmed in each of the four languages of the directory (weight D),
-- so that a query stemmed in any of them finds them. Every part is in every language: an excluded
-- word (-lugano) stemmed in Italian must find the stem of the city to exclude it.
CREATE OR REPLACE FUNCTION "professional_search_document_v2"(display_name text, city text, specialties text[], bio text)
RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, d.name), 'A')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, d.codes), 'B')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, d.place), 'C')
      || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, d.about), 'D')
      || pg_catalog.setweight(
           pg_catalog.to_tsvector('pg_catalog.english'::pg_catalog.regconfig, d.everything)
        || pg_catalog.to_tsvector('pg_catalog.french'::pg_catalog.regconfig, d.everything)
        || pg_catalog.to_tsvector('pg_catalog.german'::pg_catalog.regconfig, d.everything)
        || pg_catalog.to_tsvector('pg_catalog.italian'::pg_catalog.regconfig, d.everything), 'D')
    FROM (SELECT f.name, f.codes, f.place, f.about, f.name || ' ' || f.codes || ' ' || f.place || ' ' || f.about AS everything
            FROM (SELECT public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(coalesce(display_name, ''))) AS name,
                         coalesce(pg_catalog.array_to_string(specialties, ' '), '') AS codes,
                         public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(coalesce(city, ''))) AS place,
                         public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(coalesce(bio, ''))) AS about) f) d
$$;

-- What trigram (typo-tolerant) matching compares a query with: name, city and specialties, folded.
CREATE OR REPLACE FUNCTION "professional_search_text"(display_name text, city text, specialties text[])
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(
    coalesce(display_name, '') || ' ' || coalesce(city, '') || ' ' || coalesce(pg_catalog.array_to_string(specialties, ' '), '')))
$$;

-- A point on the Earth as a 3-D cube point (earth-centred, km, spherical Earth of the mean radius
-- used by domain/geo.ts). The Euclidean (chord) distance between two such points grows with the
-- great-circle distance, so a GiST index on it serves both the radius and the nearest-first order.
CREATE OR REPLACE FUNCTION "earth_position"(latitude float8, longitude float8)
RETURNS public.cube
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$
  SELECT public.cube(ARRAY[
    6371.0088 * pg_catalog.cos(pg_catalog.radians(latitude)) * pg_catalog.cos(pg_catalog.radians(longitude)),
    6371.0088 * pg_catalog.cos(pg_catalog.radians(latitude)) * pg_catalog.sin(pg_catalog.radians(longitude)),
    6371.0088 * pg_catalog.sin(pg_catalog.radians(latitude))
  ]::float8[])
$$;

ALTER TABLE "professionals" DROP COLUMN IF EXISTS "search_vector";
ALTER TABLE "professionals"
  ADD COLUMN IF NOT EXISTS "search_vector" tsvector
  GENERATED ALWAYS AS ("professional_search_document_v2"("display_name", "city", "specialties", "bio")) STORED;
ALTER TABLE "professionals"
  ADD COLUMN IF NOT EXISTS "search_text" text
  GENERATED ALWAYS AS ("professional_search_text"("display_name", "city", "specialties")) STORED;
ALTER TABLE "professionals"
  ADD COLUMN IF NOT EXISTS "position" public.cube
  GENERATED ALWAYS AS ("earth_position"("latitude", "longitude")) STORED;
DROP FUNCTION IF EXISTS "professional_search_document"(text, text, text[], text);

CREATE INDEX IF NOT EXISTS "professionals_search_vector_idx" ON "professionals" USING GIN ("search_vector");
CREATE INDEX IF NOT EXISTS "professionals_search_text_idx" ON "professionals" USING GIN ("search_text" public.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS "professionals_position_idx" ON "professionals" USING GIST ("position");
CREATE INDEX IF NOT EXISTS "professionals_price_amount_idx" ON "professionals" ("price_amount");
-- The bounding box on latitude and longitude is replaced by the spatial index.
DROP INDEX IF EXISTS "professionals_latitude_longitude_idx";

-- Synonyms: a folded word people type, and what it means: a specialty code, or a place (every
-- word of the same place is a synonym of the others). Adding one is a migration that inserts
-- here and refreshes search_rewrites (docs/search.md).
CREATE TABLE IF NOT EXISTS "search_synonyms" (
  "term" TEXT NOT NULL,
  "kind" TEXT NOT NULL,
  "meaning" TEXT NOT NULL,
  CONSTRAINT "search_synonyms_pkey" PRIMARY KEY ("term", "kind"),
  CONSTRAINT "search_synonyms_kind_check" CHECK ("kind" IN ('specialty', 'place')),
  CONSTRAINT "search_synonyms_term_check" CHECK ("term" ~ '^[a-z0-9]+$')
);

INSERT INTO "search_synonyms" ("term", "kind", "meaning") VALUES
  -- general practice
  ('generalist', 'specialty', 'general-practice'), ('gp', 'specialty', 'general-practice'), ('family', 'specialty', 'general-practice'),
  ('generaliste', 'specialty', 'general-practice'), ('hausarzt', 'specialty', 'general-practice'), ('hausarztin', 'specialty', 'general-practice'),
  ('allgemeinmedizin', 'specialty', 'general-practice'), ('allgemeinmediziner', 'specialty', 'general-practice'), ('medecin', 'specialty', 'general-practice'),
  ('generale', 'specialty', 'general-practice'), ('medico', 'specialty', 'general-practice'), ('famiglia', 'specialty', 'general-practice'),
  -- internal medicine
  ('internist', 'specialty', 'internal-medicine'), ('interne', 'specialty', 'internal-medicine'), ('interniste', 'specialty', 'internal-medicine'),
  ('innere', 'specialty', 'internal-medicine'), ('internista', 'specialty', 'internal-medicine'), ('interna', 'specialty', 'internal-medicine'),
  -- cardiology
  ('cardio', 'specialty', 'cardiology'), ('cardiologist', 'specialty', 'cardiology'), ('cardiologie', 'specialty', 'cardiology'),
  ('cardiologue', 'specialty', 'cardiology'), ('kardiologie', 'specialty', 'cardiology'), ('kardiologe', 'specialty', 'cardiology'),
  ('kardiologin', 'specialty', 'cardiology'), ('cardiologia', 'specialty', 'cardiology'), ('cardiologo', 'specialty', 'cardiology'),
  ('heart', 'specialty', 'cardiology'), ('coeur', 'specialty', 'cardiology'), ('herz', 'specialty', 'cardiology'), ('cuore', 'specialty', 'cardiology'),
  -- dermatology
  ('dermato', 'specialty', 'dermatology'), ('dermatologist', 'specialty', 'dermatology'), ('dermatologie', 'specialty', 'dermatology'),
  ('dermatologue', 'specialty', 'dermatology'), ('dermatologe', 'specialty', 'dermatology'), ('dermatologin', 'specialty', 'dermatology'),
  ('dermatologia', 'specialty', 'dermatology'), ('dermatologo', 'specialty', 'dermatology'), ('hautarzt', 'specialty', 'dermatology'),
  ('hautarztin', 'specialty', 'dermatology'), ('skin', 'specialty', 'dermatology'), ('peau', 'specialty', 'dermatology'), ('pelle', 'specialty', 'dermatology'),
  -- psychiatry
  ('psychiatrist', 'specialty', 'psychiatry'), ('psychiatrie', 'specialty', 'psychiatry'), ('psychiatre', 'specialty', 'psychiatry'),
  ('psychiater', 'specialty', 'psychiatry'), ('psychiaterin', 'specialty', 'psychiatry'), ('psichiatria', 'specialty', 'psychiatry'), ('psichiatra', 'specialty', 'psychiatry'),
  -- pediatrics
  ('paediatrics', 'specialty', 'pediatrics'), ('pediatrician', 'specialty', 'pediatrics'), ('pediatrie', 'specialty', 'pediatrics'),
  ('pediatre', 'specialty', 'pediatrics'), ('padiatrie', 'specialty', 'pediatrics'), ('paediatrie', 'specialty', 'pediatrics'),
  ('kinderarzt', 'specialty', 'pediatrics'), ('kinderarztin', 'specialty', 'pediatrics'), ('pediatria', 'specialty', 'pediatrics'), ('pediatra', 'specialty', 'pediatrics'),
  -- gynecology
  ('gynaecology', 'specialty', 'gynecology'), ('gynecologist', 'specialty', 'gynecology'), ('gyneco', 'specialty', 'gynecology'),
  ('gynecologie', 'specialty', 'gynecology'), ('gynecologue', 'specialty', 'gynecology'), ('gynakologie', 'specialty', 'gynecology'),
  ('gynaekologie', 'specialty', 'gynecology'), ('frauenarzt', 'specialty', 'gynecology'), ('frauenarztin', 'specialty', 'gynecology'),
  ('ginecologia', 'specialty', 'gynecology'), ('ginecologo', 'specialty', 'gynecology'),
  -- psychology
  ('psychologist', 'specialty', 'psychology'), ('psychotherapy', 'specialty', 'psychology'), ('psychologie', 'specialty', 'psychology'),
  ('psychologue', 'specialty', 'psychology'), ('psychotherapie', 'specialty', 'psychology'), ('psychologe', 'specialty', 'psychology'),
  ('psychologin', 'specialty', 'psychology'), ('psicologia', 'specialty', 'psychology'), ('psicologo', 'specialty', 'psychology'), ('psicoterapia', 'specialty', 'psychology'),
  -- nutrition
  ('dietitian', 'specialty', 'nutrition'), ('dietetics', 'specialty', 'nutrition'), ('dieteticien', 'specialty', 'nutrition'),
  ('dietetique', 'specialty', 'nutrition'), ('ernahrung', 'specialty', 'nutrition'), ('ernaehrung', 'specialty', 'nutrition'),
  ('ernahrungsberatung', 'specialty', 'nutrition'), ('nutrizione', 'specialty', 'nutrition'), ('dietologo', 'specialty', 'nutrition'), ('nutrizionista', 'specialty', 'nutrition'),
  -- endocrinology
  ('endocrinologist', 'specialty', 'endocrinology'), ('endocrinologie', 'specialty', 'endocrinology'), ('endocrinologue', 'specialty', 'endocrinology'),
  ('endokrinologie', 'specialty', 'endocrinology'), ('endocrinologia', 'specialty', 'endocrinology'), ('diabetes', 'specialty', 'endocrinology'), ('diabete', 'specialty', 'endocrinology'),
  -- gastroenterology
  ('gastro', 'specialty', 'gastroenterology'), ('gastroenterologist', 'specialty', 'gastroenterology'), ('gastroenterologie', 'specialty', 'gastroenterology'),
  ('gastroenterologue', 'specialty', 'gastroenterology'), ('gastroenterologia', 'specialty', 'gastroenterology'), ('gastroenterologo', 'specialty', 'gastroenterology'),
  -- neurology
  ('neurologist', 'specialty', 'neurology'), ('neurologie', 'specialty', 'neurology'), ('neurologue', 'specialty', 'neurology'),
  ('neurologe', 'specialty', 'neurology'), ('neurologin', 'specialty', 'neurology'), ('neurologia', 'specialty', 'neurology'), ('neurologo', 'specialty', 'neurology'),
  -- pulmonology
  ('pulmonologist', 'specialty', 'pulmonology'), ('pneumologie', 'specialty', 'pulmonology'), ('pneumologue', 'specialty', 'pulmonology'),
  ('pneumologe', 'specialty', 'pulmonology'), ('lungenarzt', 'specialty', 'pulmonology'), ('pneumologia', 'specialty', 'pulmonology'), ('pneumologo', 'specialty', 'pulmonology'),
  -- rheumatology
  ('rheumatologist', 'specialty', 'rheumatology'), ('rhumatologie', 'specialty', 'rheumatology'), ('rhumatologue', 'specialty', 'rheumatology'),
  ('rheumatologie', 'specialty', 'rheumatology'), ('rheumatologe', 'specialty', 'rheumatology'), ('reumatologia', 'specialty', 'rheumatology'), ('reumatologo', 'specialty', 'rheumatology'),
  -- urology
  ('urologist', 'specialty', 'urology'), ('urologie', 'specialty', 'urology'), ('urologue', 'specialty', 'urology'),
  ('urologe', 'specialty', 'urology'), ('urologia', 'specialty', 'urology'), ('urologo', 'specialty', 'urology'),
  -- ophthalmology
  ('ophthalmologist', 'specialty', 'ophthalmology'), ('ophtalmologie', 'specialty', 'ophthalmology'), ('ophtalmologue', 'specialty', 'ophthalmology'),
  ('ophtalmo', 'specialty', 'ophthalmology'), ('ophthalmologie', 'specialty', 'ophthalmology'), ('augenarzt', 'specialty', 'ophthalmology'),
  ('augenarztin', 'specialty', 'ophthalmology'), ('oftalmologia', 'specialty', 'ophthalmology'), ('oculista', 'specialty', 'ophthalmology'), ('eye', 'specialty', 'ophthalmology'),
  -- ear, nose and throat
  ('ent', 'specialty', 'otorhinolaryngology'), ('orl', 'specialty', 'otorhinolaryngology'), ('hno', 'specialty', 'otorhinolaryngology'),
  ('otorhinolaryngologie', 'specialty', 'otorhinolaryngology'), ('otorino', 'specialty', 'otorhinolaryngology'), ('otorinolaringoiatria', 'specialty', 'otorhinolaryngology'),
  ('otorinolaringoiatra', 'specialty', 'otorhinolaryngology'), ('hals', 'specialty', 'otorhinolaryngology'),
  -- orthopedics
  ('orthopaedics', 'specialty', 'orthopedics'), ('orthopedist', 'specialty', 'orthopedics'), ('orthopedie', 'specialty', 'orthopedics'),
  ('orthopediste', 'specialty', 'orthopedics'), ('orthopadie', 'specialty', 'orthopedics'), ('orthopaedie', 'specialty', 'orthopedics'),
  ('orthopade', 'specialty', 'orthopedics'), ('ortopedia', 'specialty', 'orthopedics'), ('ortopedico', 'specialty', 'orthopedics'),
  -- allergology
  ('allergy', 'specialty', 'allergology'), ('allergist', 'specialty', 'allergology'), ('allergologie', 'specialty', 'allergology'),
  ('allergologue', 'specialty', 'allergology'), ('allergologe', 'specialty', 'allergology'), ('allergologia', 'specialty', 'allergology'), ('allergologo', 'specialty', 'allergology'),
  -- physiotherapy
  ('physio', 'specialty', 'physiotherapy'), ('physiotherapist', 'specialty', 'physiotherapy'), ('physiotherapie', 'specialty', 'physiotherapy'),
  ('kine', 'specialty', 'physiotherapy'), ('kinesitherapeute', 'specialty', 'physiotherapy'), ('physiotherapeute', 'specialty', 'physiotherapy'),
  ('physiotherapeut', 'specialty', 'physiotherapy'), ('fisioterapia', 'specialty', 'physiotherapy'), ('fisioterapista', 'specialty', 'physiotherapy'), ('fisio', 'specialty', 'physiotherapy'),
  -- sexology
  ('sexologist', 'specialty', 'sexology'), ('sexologie', 'specialty', 'sexology'), ('sexologue', 'specialty', 'sexology'),
  ('sexologe', 'specialty', 'sexology'), ('sessuologia', 'specialty', 'sexology'), ('sessuologo', 'specialty', 'sexology'),
  -- travel medicine
  ('travel', 'specialty', 'travel-medicine'), ('voyage', 'specialty', 'travel-medicine'), ('voyages', 'specialty', 'travel-medicine'),
  ('reisemedizin', 'specialty', 'travel-medicine'), ('viaggi', 'specialty', 'travel-medicine'), ('viaggio', 'specialty', 'travel-medicine'),
  -- places: every spelling of a city in the directory's languages (one-word names)
  ('zurich', 'place', 'zurich'), ('zuerich', 'place', 'zurich'), ('zurigo', 'place', 'zurich'),
  ('geneve', 'place', 'geneve'), ('geneva', 'place', 'geneve'), ('genf', 'place', 'geneve'), ('ginevra', 'place', 'geneve'),
  ('bern', 'place', 'bern'), ('berne', 'place', 'bern'), ('berna', 'place', 'bern'),
  ('basel', 'place', 'basel'), ('bale', 'place', 'basel'), ('basle', 'place', 'basel'), ('basilea', 'place', 'basel'),
  ('luzern', 'place', 'luzern'), ('lucerne', 'place', 'luzern'), ('lucerna', 'place', 'luzern'),
  ('lausanne', 'place', 'lausanne'), ('losanna', 'place', 'lausanne'),
  ('neuchatel', 'place', 'neuchatel'), ('neuenburg', 'place', 'neuchatel'),
  ('biel', 'place', 'biel'), ('bienne', 'place', 'biel'),
  ('lugano', 'place', 'lugano'),
  ('winterthur', 'place', 'winterthur'), ('winterthour', 'place', 'winterthur'),
  ('wien', 'place', 'wien'), ('vienna', 'place', 'wien'), ('vienne', 'place', 'wien'),
  ('salzburg', 'place', 'salzburg'), ('salzbourg', 'place', 'salzburg'), ('salisburgo', 'place', 'salzburg'),
  ('munchen', 'place', 'munchen'), ('muenchen', 'place', 'munchen'), ('munich', 'place', 'munchen'),
  ('koln', 'place', 'koln'), ('koeln', 'place', 'koln'), ('cologne', 'place', 'koln'), ('colonia', 'place', 'koln'),
  ('nurnberg', 'place', 'nurnberg'), ('nuernberg', 'place', 'nurnberg'), ('nuremberg', 'place', 'nurnberg'), ('norimberga', 'place', 'nurnberg'),
  ('hamburg', 'place', 'hamburg'), ('hambourg', 'place', 'hamburg'), ('amburgo', 'place', 'hamburg'),
  ('berlin', 'place', 'berlin'), ('berlino', 'place', 'berlin'),
  ('frankfurt', 'place', 'frankfurt'), ('francfort', 'place', 'frankfurt'), ('francoforte', 'place', 'frankfurt'),
  ('milano', 'place', 'milano'), ('milan', 'place', 'milano'), ('mailand', 'place', 'milano'),
  ('torino', 'place', 'torino'), ('turin', 'place', 'torino'),
  ('roma', 'place', 'roma'), ('rome', 'place', 'roma'), ('rom', 'place', 'roma'),
  ('firenze', 'place', 'firenze'), ('florence', 'place', 'firenze'), ('florenz', 'place', 'firenze'),
  ('venezia', 'place', 'venezia'), ('venice', 'place', 'venezia'), ('venise', 'place', 'venezia'), ('venedig', 'place', 'venezia'),
  ('napoli', 'place', 'napoli'), ('naples', 'place', 'napoli'), ('neapel', 'place', 'napoli'),
  ('genova', 'place', 'genova'), ('genoa', 'place', 'genova'), ('genes', 'place', 'genova'), ('genua', 'place', 'genova'),
  ('paris', 'place', 'paris'), ('parigi', 'place', 'paris'),
  ('lyon', 'place', 'lyon'), ('lyons', 'place', 'lyon'), ('lione', 'place', 'lyon'),
  ('marseille', 'place', 'marseille'), ('marseilles', 'place', 'marseille'), ('marsiglia', 'place', 'marseille'),
  ('nice', 'place', 'nice'), ('nizza', 'place', 'nice'),
  ('strasbourg', 'place', 'strasbourg'), ('strassburg', 'place', 'strasbourg'), ('strasburgo', 'place', 'strasbourg'),
  ('toulouse', 'place', 'toulouse'), ('tolosa', 'place', 'toulouse')
ON CONFLICT ("term", "kind") DO UPDATE SET "meaning" = EXCLUDED."meaning";

-- The rewrite rules ts_rewrite applies to a query: a word becomes (the word | its meaning's
-- words). A specialty word also matches the specialty code of the document, a place word every
-- spelling of that place. Materialised: refreshed by the migration that changes search_synonyms.
CREATE MATERIALIZED VIEW IF NOT EXISTS "search_rewrites" AS
  SELECT pg_catalog.quote_literal(s.term)::tsquery AS target,
         (SELECT pg_catalog.string_agg(pg_catalog.quote_literal(w.word), ' | ' ORDER BY w.word)
            FROM (SELECT s.term AS word
                  UNION SELECT s.meaning WHERE s.kind = 'specialty'
                  UNION SELECT o.term FROM "search_synonyms" o WHERE o.kind = 'place' AND s.kind = 'place' AND o.meaning = s.meaning) w
         )::tsquery AS substitute
    FROM "search_synonyms" s;
REFRESH MATERIALIZED VIEW "search_rewrites";

-- A query as people type it (websearch syntax: words, "phrases", -excluded, or), folded: every
-- word is a prefix and expanded by its synonyms, OR the same query stemmed in each of the four
-- languages (matching the stemmed document). With an excluded word the stemmed readings are left
-- out: they know no synonyms, so -zurigo stemmed would not exclude a profile in Zürich.
-- SET search_path: ts_rewrite's query names search_rewrites unqualified and must find this schema's.
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
                   '''((?:[^'']|'''')+)''', '''\1'':*', 'g')::tsquery AS expanded
            FROM (SELECT public.unaccent('public.unaccent'::regdictionary, pg_catalog.lower(query)) AS folded) w) f
$$;
