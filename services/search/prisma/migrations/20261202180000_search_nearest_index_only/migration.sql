-- Searches by place walk the profiles nearest first (docs/search.md) and test each one against the
-- filters: with professionals_position_idx that is one heap page per profile walked, 400-500 for a
-- specialty in a city and the whole circle for a rare combination (the largest share of
-- PostgreSQL's time at 2 000 users). This index carries the filters' columns: the walk is an
-- index-only scan, and only the page's profiles are read from the table, by id.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
CREATE INDEX IF NOT EXISTS "professionals_nearest_idx" ON "professionals" USING GIST ("position")
  INCLUDE ("id", "specialties", "languages", "country", "price_amount", "next_available_at") WHERE "verified";
