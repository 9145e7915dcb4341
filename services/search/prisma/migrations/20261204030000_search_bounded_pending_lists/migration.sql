-- Every availability change rewrites a profile's row (the consumer after a booking, the sweep as
-- time passes: about 6 a second on the 50 000 directory, bench/results/time-passing-*), and as
-- next_available_at is indexed none of them is a HOT update: each adds the row's entries to every
-- index, the GIN ones included. GIN keeps those in a pending list until it reaches
-- gin_pending_list_limit (4 MB by default) or a vacuum, and every search through the index reads
-- the whole list. After 3 000 changes the words with a specialty took 4.9 ms instead of 1.8 (p50),
-- and index-only walks fetched heap pages again until the next vacuum, which PostgreSQL's default
-- starts after 20 % of the rows changed, about half an hour of the sweep
-- (bench/results/directory-churn-*, make bench-directory-churn).
-- So: each GIN index of the directory moves its list into the index past 256 kB (an update costs
-- 0.5 ms instead of 0.34), and the table is vacuumed after 2 % of its rows changed, which also
-- empties the lists and sets the visibility the index-only walks need.
-- NB (docs/service-guide.md): no semicolon in comments or bodies, every step idempotent.
ALTER INDEX "professionals_specialties_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "professionals_languages_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "professionals_search_vector_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "professionals_search_text_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "professionals_filters_idx" SET (gin_pending_list_limit = 256);
ALTER INDEX "professionals_specialty_words_idx" SET (gin_pending_list_limit = 256);
ALTER TABLE "professionals" SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_threshold = 500);
