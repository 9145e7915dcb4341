import { LRUCache } from 'lru-cache';
import type pg from 'pg';
import { auditEvent, table, type Outbox, type SqlTx } from '@cryptocare/events';
import type { PrismaClient, Professional } from '../generated/prisma';
import { EARTH_RADIUS_KM, chordKm } from '../domain/geo';
import type { ValidProfile } from '../domain/profile';
import { reviewState, type ReviewState } from '../domain/review';
import type { PageKey, SearchCriteria } from '../domain/search-criteria';

/** A stored profile as the rest of the service sees it. */
export interface ProfileRecord extends ValidProfile {
  verified: boolean;
  nextAvailableAt: Date | null;
  /** An admin's rejection standing since the profile was last saved; null when none. */
  rejection: Rejection | null;
}

export interface Rejection {
  at: Date;
  /** The admin; null when the caller named none. */
  by: string | null;
  reason: string;
}

/** What RejectProfessional found: the rejected profile, or why not. */
export type RejectOutcome = { rejected: ProfileRecord } | { refused: 'not_found' | 'already_verified' };

/** A profile with when it was submitted and last changed (the verification queue). */
export interface SubmittedRecord extends ProfileRecord {
  submittedAt: Date;
  updatedAt: Date;
}

/** Where a page of the verification queue ends. */
export interface SubmissionKey {
  submittedAt: Date;
  id: string;
}

export interface SearchHit extends ProfileRecord {
  /** Present when the search was by place. */
  distanceKm?: number;
  /** The chord distance the order and the cursor use (with distanceKm). */
  chordKm?: number;
}

/** What an availability event says (appointment.availability_changed). */
export interface Availability {
  /** The earliest free slot; null when nothing is free. */
  next: Date | null;
  /** The free slots after it, soonest first. */
  later: Date[];
  /** A slot stops being bookable this long before it starts. */
  minimumNoticeMinutes: number;
}

export interface SearchPage {
  items: SearchHit[];
  /** Key of the last item when there are more. */
  next?: PageKey;
}

function record(row: Professional): ProfileRecord {
  return {
    id: row.id,
    displayName: row.displayName,
    specialties: row.specialties,
    languages: row.languages,
    country: row.country,
    city: row.city,
    latitude: row.latitude,
    longitude: row.longitude,
    priceAmount: row.priceAmount.toFixed(2),
    priceCurrency: row.priceCurrency,
    consultationMinutes: row.consultationMinutes,
    timeZone: row.timeZone,
    bio: row.bio,
    verified: row.verified,
    nextAvailableAt: row.nextAvailableAt,
    rejection: row.rejectedAt ? { at: row.rejectedAt, by: row.rejectedBy, reason: row.rejectionReason ?? '' } : null,
  };
}

/** search.profile_updated's data for a stored profile. */
function profileUpdated(row: Professional) {
  return { professionalId: row.id, verified: row.verified, timeZone: row.timeZone, reviewState: reviewState(row) };
}

/** A profile as the hot reads select it (PROFILE_COLUMNS), through pg rather than Prisma. */
interface ProfileRow {
  id: string;
  display_name: string;
  specialties: string[] | null;
  languages: string[] | null;
  country: string;
  city: string;
  latitude: number;
  longitude: number;
  price_amount: string;
  price_currency: string;
  consultation_minutes: number;
  time_zone: string;
  bio: string;
  verified: boolean;
  /** ISO text at the column's millisecond precision: what a page's cursor carries back. */
  next_available_at: string | null;
  rejected_at?: Date | null;
  rejected_by?: string | null;
  rejection_reason?: string | null;
}

interface SearchRow extends ProfileRow {
  distance_km: number | null;
  chord_km: number | null;
}

/** The columns of a ProfileRow (price as text: numeric would lose its two decimals). */
const PROFILE_COLUMNS = `id::text AS id, display_name, specialties, languages, country, city, latitude, longitude,
    price_amount::text AS price_amount, price_currency, consultation_minutes, time_zone, bio, verified,
    to_char(next_available_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS next_available_at`;

/** search's tables, through Prisma (and raw SQL where the query is beyond it). */
export class DirectoryStore {
  private readonly professionals: string;
  /**
   * What words mean (resolveText), per replica: it changes only with search_synonyms, that is with a
   * migration, which comes with a new release; so the words people type most (city names) cost
   * one statement, not two. Bounded: odd queries only evict.
   */
  private readonly meanings = new LRUCache<string, ResolvedText>({ max: 5_000, ttl: 10 * 60_000 });

  constructor(
    private readonly db: PrismaClient,
    private readonly outbox: Outbox,
    private readonly schema: string,
    /** The pool under `db`, for the hot reads by id (profile pages). */
    private readonly primary: pg.Pool,
    /** A replica for lag-tolerant reads (the search itself); the primary when there is none. */
    private readonly replica: pg.Pool = primary,
  ) {
    this.professionals = table(schema, 'professionals');
  }

  async specialties(): Promise<Array<{ code: string; name: string }>> {
    return this.db.specialty.findMany({ orderBy: { name: 'asc' } });
  }

  async countries(): Promise<Array<{ code: string; name: string; currency: string }>> {
    return this.db.country.findMany({ orderBy: { name: 'asc' } });
  }

  /**
   * Profiles by review state, oldest submission first, from after `after` (keyset: the
   * submission time, then the id). One more than `limit` is read to know whether a page follows.
   */
  async byReviewState(state: ReviewState, limit: number, after?: SubmissionKey): Promise<{ items: SubmittedRecord[]; next?: SubmissionKey }> {
    const inState = state === 'verified' ? { verified: true } : { verified: false, rejectedAt: state === 'rejected' ? { not: null } : null };
    const rows = await this.db.professional.findMany({
      where: { ...inState, ...(after ? { OR: [{ createdAt: { gt: after.submittedAt } }, { createdAt: after.submittedAt, id: { gt: after.id } }] } : {}) },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: limit + 1,
    });
    const page = rows.slice(0, limit).map((row) => ({ ...record(row), submittedAt: row.createdAt, updatedAt: row.updatedAt }));
    const last = page.at(-1);
    return { items: page, ...(rows.length > limit && last ? { next: { submittedAt: last.submittedAt, id: last.id } } : {}) };
  }

  async find(id: string): Promise<ProfileRecord | undefined> {
    const { rows } = await this.primary.query<ProfileRow>(
      `SELECT ${PROFILE_COLUMNS}, rejected_at, rejected_by::text AS rejected_by, rejection_reason FROM ${this.professionals} WHERE id = $1::uuid`,
      [id],
    );
    return rows[0] ? profileOf(rows[0]) : undefined;
  }

  /**
   * Creates or replaces a profile and records `search.profile_updated`, in one transaction. The
   * verification state and the earliest free slot are not the professional's to set: an existing
   * profile keeps them, a new one starts unverified with no known slot. Saving a rejected profile
   * asks for a new review: the rejection goes, the profile is pending again.
   */
  async upsert(profile: ValidProfile): Promise<ProfileRecord> {
    const { id, ...fields } = profile;
    const saved = await this.db.$transaction(async (tx) => {
      const row = await tx.professional.upsert({
        where: { id },
        create: { id, ...fields },
        update: { ...fields, rejectedAt: null, rejectedBy: null, rejectionReason: null },
      });
      await this.outbox.add(tx, 'search.profile_updated', id, profileUpdated(row));
      return row;
    });
    this.outbox.notifyCommitted();
    return record(saved);
  }

  /** Marks a profile verified (idempotent; a rejection goes); undefined when there is no such profile. */
  async verify(id: string, adminId?: string): Promise<ProfileRecord | undefined> {
    const result = await this.db.$transaction(async (tx) => {
      const [locked] = await tx.$queryRawUnsafe<Array<{ verified: boolean }>>(`SELECT verified FROM ${this.professionals} WHERE id = $1::uuid FOR UPDATE`, id);
      if (!locked) return undefined;
      if (locked.verified) return { row: await tx.professional.findUniqueOrThrow({ where: { id } }), changed: false };
      const row = await tx.professional.update({ where: { id }, data: { verified: true, rejectedAt: null, rejectedBy: null, rejectionReason: null } });
      await this.outbox.add(tx, 'search.profile_updated', id, profileUpdated(row));
      await auditEvent(this.outbox, tx, 'professional.verified', { actorId: adminId || null, subjectId: id });
      return { row, changed: true };
    });
    if (result?.changed) this.outbox.notifyCommitted();
    return result ? record(result.row) : undefined;
  }

  /**
   * Rejects a profile waiting for review (or rejected already: the latest reason wins) with the
   * reason the professional reads; records `search.profile_updated` and the audit entry (without
   * the reason: free text never enters the trail), in one transaction. The row lock orders two
   * admins deciding at the same instant: the second sees what the first did.
   */
  async reject(id: string, adminId: string | undefined, reason: string, at = new Date()): Promise<RejectOutcome> {
    const outcome = await this.db.$transaction(async (tx): Promise<RejectOutcome> => {
      const [locked] = await tx.$queryRawUnsafe<Array<{ verified: boolean }>>(`SELECT verified FROM ${this.professionals} WHERE id = $1::uuid FOR UPDATE`, id);
      if (!locked) return { refused: 'not_found' };
      if (locked.verified) return { refused: 'already_verified' };
      const row = await tx.professional.update({ where: { id }, data: { rejectedAt: at, rejectedBy: adminId ?? null, rejectionReason: reason } });
      await this.outbox.add(tx, 'search.profile_updated', id, profileUpdated(row));
      await auditEvent(this.outbox, tx, 'professional.rejected', { actorId: adminId ?? null, subjectId: id }, at);
      return { rejected: record(row) };
    });
    if ('rejected' in outcome) this.outbox.notifyCommitted();
    return outcome;
  }

  /**
   * Sets the earliest free slot and those after it from an availability event, inside the
   * consumer's transaction. An event older than the one last applied is ignored (redelivery out of
   * order). Returns whether a profile changed; unknown professionals are ignored.
   */
  async applyAvailability(tx: SqlTx, professionalId: string, availability: Availability, asOf: Date): Promise<boolean> {
    const { next, later, minimumNoticeMinutes } = availability;
    const updated = await tx.$executeRawUnsafe(
      `UPDATE ${this.professionals}
          SET next_available_at = $2::timestamptz, later_available_at = $3::timestamptz[], minimum_notice_minutes = $4::int,
              availability_moves_at = ${availabilityMovesAt('$2::timestamptz', '$3::timestamptz[]', '$4::int')},
              availability_as_of = $5::timestamptz, updated_at = now()
        WHERE id = $1::uuid AND (availability_as_of IS NULL OR availability_as_of <= $5::timestamptz)`,
      professionalId,
      next?.toISOString() ?? null,
      next ? later.map((at) => at.toISOString()) : [],
      minimumNoticeMinutes,
      asOf.toISOString(),
    );
    return updated > 0;
  }

  /**
   * Time passing: profiles whose earliest free slot can no longer be booked at `now` move on to the
   * first of their later slots still bookable (up to `limit` of them, SKIP LOCKED: safe with several
   * replicas and beside the consumer). What a slot's notice is and which slots are free is
   * appointment's answer, carried by the last event; with none left the last one stays until
   * appointment republishes (it does so while one is left). Returns the ids moved on.
   */
  async moveAvailabilityOn(now: Date, limit: number): Promise<string[]> {
    // The locked rows' own columns feed the update (a separate read of the table would see the
    // statement's snapshot, older than a consumer's update committed just before the lock).
    const { rows } = await this.primary.query<{ id: string }>(moveAvailabilityStatement(this.schema), [now.toISOString(), limit]);
    return rows.map((r) => r.id);
  }

  /** Erasure (identity.user_erased), inside the consumer's transaction. */
  async erase(tx: SqlTx, professionalId: string): Promise<boolean> {
    return (await tx.$executeRawUnsafe(`DELETE FROM ${this.professionals} WHERE id = $1::uuid`, professionalId)) > 0;
  }

  /**
   * Verified profiles matching every filter, one page in keyset order: by distance when searched
   * by place, else by earliest free slot (unknown last); the id breaks ties. Which index serves
   * which filter is in docs/search.md (and proven by test/search-plans.test.ts).
   */
  async search(criteria: SearchCriteria): Promise<SearchPage> {
    const text = criteria.query ? await this.meaningOf(criteria.query) : undefined;
    const { sql, params } = searchStatement(this.schema, criteria, text);
    const { rows } = await this.replica.query<SearchRow>(sql, params);
    const more = rows.length > criteria.limit;
    const items = rows.slice(0, criteria.limit).map(hit);
    const last = items[items.length - 1];
    if (!more || !last) return { items };
    const next: PageKey =
      last.chordKm !== undefined
        ? { by: 'distance', chordKm: last.chordKm, id: last.id }
        : { by: 'availability', nextAvailableAt: last.nextAvailableAt?.toISOString() ?? null, id: last.id };
    return { items, next };
  }

  private async meaningOf(query: string): Promise<ResolvedText> {
    const known = this.meanings.get(query);
    if (known) return known;
    const meaning = await resolveText(this.replica, this.schema, query);
    this.meanings.set(query, meaning);
    return meaning;
  }
}

/**
 * What a search's words mean to the directory, read before the search itself (one short query):
 * the full-text query (search_query: synonyms, prefixes, stems) and whether typos are forgiven.
 * Why apart: the trigram match is then left out of the statement when a word is known. Inside it,
 * its index was scanned on every search for nothing (4 ms for `Paris`): a bitmap OR reads both
 * sides before any filter can say that typos are not forgiven.
 */
export interface ResolvedText {
  /** search_query's result as text (a tsquery); '' when the words leave no lexeme. */
  tsquery: string;
  /** The words to match by trigrams: none when the query has operators or a word the directory knows. */
  similarWords: string[];
}

export async function resolveText(db: Pick<pg.Pool, 'query'>, schema: string, query: string): Promise<ResolvedText> {
  const words = typoTolerant(query) ? queryWords(query) : [];
  // Typos are forgiven only when no word is one the directory knows (a specialty or a place in
  // any of its spellings, search_synonyms) and the words as typed find no profile by full text:
  // otherwise a correct word would also bring its look-alikes (`Genf` found every "general
  // practice", `Geneva` Genova), and a city or a name outside the synonyms (`Bordeaux`, `Müller`)
  // had every profile walked tested by trigrams too (22 ms for general practitioners in Bordeaux).
  // The full-text probe (search_finds) is a look-up of the GIN index, run once per query and
  // replica (meaningOf keeps the answer).
  const { rows } = await db.query<{ tsquery: string; known: boolean }>(
    `WITH words AS (SELECT "${schema}".search_query($1) AS tsquery)
     SELECT words.tsquery::text AS tsquery,
            cardinality($2::text[]) > 0 AND (
              EXISTS (SELECT 1 FROM ${table(schema, 'search_synonyms')} WHERE term IN (SELECT "${schema}".search_fold(word) FROM unnest($2::text[]) word))
              OR "${schema}".search_finds(words.tsquery)) AS known
       FROM words`,
    [query, words],
  );
  const { tsquery, known } = rows[0]!;
  return { tsquery, similarWords: known ? [] : words };
}

/**
 * The SQL of a search and its parameters (also what the query-plan tests EXPLAIN); a search with
 * words needs what they mean (resolveText).
 */
export function searchStatement(schema: string, criteria: SearchCriteria, text?: ResolvedText): { sql: string; params: string[] } {
  const professionals = table(schema, 'professionals');
  const params: string[] = [];
  const param = (value: string | number, cast: string) => {
    // Numbers go as text: the driver adapter sends a JS number with 16 significant digits,
    // which would not round-trip the exact distance a cursor carries (a repeated row).
    params.push(typeof value === 'number' ? String(value) : value);
    return `$${params.length}::${cast}`;
  };
  const fn = (name: string) => `"${schema}"."${name}"`;
  const where = ['verified'];
  if (criteria.query) {
    if (!text) throw new Error('searchStatement: a search with words needs resolveText first');
    // Full text (synonyms, prefixes, stems: search_query), or else a trigram match of the folded
    // words on name, city and specialties: typos (each word must be found).
    // The query is a sub-select on purpose: the planner then guesses it matches few profiles and
    // intersects the full-text index with the other filters' (a bitmap AND). Shown the query, it
    // trusts the words' statistics, walks the earliest-free-slot order expecting matches soon,
    // and reads all 50 000 profiles when the filters are correlated (`Milano` with French: 138 ms).
    const conditions = text.tsquery ? [`search_vector @@ (SELECT ${param(text.tsquery, 'tsquery')})`] : [];
    const similar = text.similarWords.map((word) => `${fn('search_fold')}(${param(word, 'text')}) OPERATOR(public.<%) search_text`);
    if (similar.length > 0) conditions.push(`(${similar.join(' AND ')})`);
    where.push(conditions.length > 0 ? `(${conditions.join(' OR ')})` : 'false');
  }
  const filters: string[] = [];
  if (criteria.specialty) filters.push(`specialties @> ARRAY[${param(criteria.specialty, 'text')}]`);
  if (criteria.language) filters.push(`languages @> ARRAY[${param(criteria.language, 'text')}]`);
  if (criteria.country) filters.push(`country = ${param(criteria.country, 'text')}`);
  if (criteria.availableBefore) filters.push(`next_available_at <= ${param(criteria.availableBefore, 'timestamptz')}`);
  if (criteria.maxPrice) filters.push(`price_amount <= ${param(criteria.maxPrice, 'numeric')}`);

  let sql: string;
  if (criteria.place) {
    const { latitude, longitude, radiusKm } = criteria.place;
    // Nearest first by a KNN scan of the GiST index on position (<->), stopped by the LIMIT once a
    // page is found, and only then cut at the radius: the rows within the radius are a prefix of
    // the nearest-first order, so the page is the same, and a dense city never reads every
    // profile inside its circle (a box condition made the planner do that: 17 ms at 50 000).
    // Past the radius every row passes the filters (`OR chord > radius`), so the LIMIT also stops
    // the walk there: with rare filters it ran on through the whole directory looking for a page
    // that was never coming (a specialty under 80 CHF near Winterthur: 7 871 rows, 26 ms).
    const centre = `${fn('earth_position')}(${param(latitude, 'float8')}, ${param(longitude, 'float8')})`;
    const chord = `(p.position OPERATOR(public.<->) ${centre})`;
    const radius = param(chordKm(radiusKm) * (1 + 1e-12), 'float8');
    if (criteria.after?.by === 'distance') {
      const after = param(criteria.after.chordKm, 'float8');
      filters.push(`(${chord} > ${after} OR (${chord} = ${after} AND id > ${param(criteria.after.id, 'uuid')}))`);
    }
    if (filters.length > 0) where.push(`(${filters.join(' AND ')} OR ${chord} > ${radius})`);
    // The walk selects the id alone, so it is an index-only scan of professionals_nearest_idx
    // (its filters' columns are in the index): no heap page per profile walked, only the page's
    // rows are then read by id. A search with words reads the heap for them (a plain index scan).
    // The walk is ordered by the distance alone, with the rows tied with the last one: PostgreSQL
    // walks a GiST index nearest first only when the distance is the whole ORDER BY. Ordered by
    // distance and id, it chose, depending on the table's statistics, to read every profile and sort
    // them (21-25 ms a search, PostgreSQL 0.71 of a core at 2 000 users instead of 0.15;
    // bench/results/load-2026-12-04-geo-sort-before.md, docs/performance-history.md).
    // The ties keep the page exact: the id then orders them outside, and the LIMIT there cuts them.
    const pageRows = param(criteria.limit + 1, 'int');
    sql = `SELECT ${PROFILE_COLUMNS}, nearest.chord_km,
                  ${2 * EARTH_RADIUS_KM} * asin(least(1, nearest.chord_km / ${2 * EARTH_RADIUS_KM})) AS distance_km
             FROM (SELECT p.id, ${chord} AS chord_km
                     FROM ${professionals} p
                    WHERE ${where.join(' AND ')}
                    ORDER BY ${chord}
                    FETCH FIRST (${pageRows}) ROWS WITH TIES) nearest
             JOIN ${professionals} USING (id)
            WHERE nearest.chord_km <= ${radius}
            ORDER BY nearest.chord_km, nearest.id
            LIMIT ${pageRows}`;
  } else {
    where.push(...filters);
    const after = criteria.after;
    if (after?.by === 'availability') {
      const id = param(after.id, 'uuid');
      if (after.nextAvailableAt === null) {
        where.push(`(next_available_at IS NULL AND id > ${id})`);
      } else {
        const at = param(after.nextAvailableAt, 'timestamptz');
        where.push(`(next_available_at > ${at} OR (next_available_at = ${at} AND id > ${id}) OR next_available_at IS NULL)`);
      }
    }
    // As by place: the walk in availability order selects the id and its key alone, so it is an
    // index-only scan of professionals_soonest_idx (or professionals_country_soonest_idx), the
    // filters read from the index; only the page's rows are then read by id.
    // Qualified (p.): unqualified, ORDER BY names the output columns (text), which no index serves.
    sql = `SELECT ${PROFILE_COLUMNS}, NULL::float8 AS distance_km, NULL::float8 AS chord_km
             FROM (SELECT p.id, p.next_available_at AS soonest_at
                     FROM ${professionals} p
                    WHERE ${where.join(' AND ')}
                    ORDER BY p.next_available_at ASC NULLS LAST, p.id
                    LIMIT ${param(criteria.limit + 1, 'int')}) soonest
             JOIN ${professionals} USING (id)
            ORDER BY soonest.soonest_at ASC NULLS LAST, soonest.id`;
  }
  return { sql, params };
}

/**
 * When a profile's earliest free slot stops being bookable and it moves on to the next listed (SQL
 * over the given expressions): its start less the notice, and only while a later slot is listed
 * (none: it stays until appointment republishes). applyAvailability and the seed write it alike.
 */
export function availabilityMovesAt(next: string, later: string, notice: string): string {
  return `CASE WHEN cardinality(${later}) > 0 THEN ${next} - make_interval(mins => ${notice}) END`;
}

/**
 * DirectoryStore.moveAvailabilityOn's statement ($1 now, $2 how many): the due rows locked with
 * their columns, each one's later slots still bookable at $1 (start - notice >= now, as appointment
 * computes slots), the first of them made the earliest. When none is left the last listed stays;
 * availability_moves_at is set only when a later slot remains to move on to (partial index
 * professionals_availability_moves_at_idx).
 */
export function moveAvailabilityStatement(schema: string): string {
  const professionals = table(schema, 'professionals');
  return `WITH due AS (
            SELECT id, later_available_at AS later, minimum_notice_minutes AS notice FROM ${professionals}
             WHERE availability_moves_at < $1::timestamptz
             ORDER BY availability_moves_at LIMIT $2::int FOR UPDATE SKIP LOCKED),
          moved AS (
            SELECT id, notice, later[cardinality(later)] AS last,
                   ARRAY(SELECT s FROM unnest(later) AS s WHERE s - make_interval(mins => notice) >= $1::timestamptz ORDER BY s) AS still
              FROM due)
          UPDATE ${professionals} AS p
             SET next_available_at = coalesce(m.still[1], m.last),
                 later_available_at = m.still[2:],
                 availability_moves_at = CASE WHEN cardinality(m.still) > 1 THEN m.still[1] - make_interval(mins => m.notice) END,
                 updated_at = now()
            FROM moved AS m
           WHERE p.id = m.id
       RETURNING p.id::text AS id`;
}

/** At most this many words take part in the trigram match (each is one more index condition). */
const MAX_SIMILAR_WORDS = 6;

/** The words of a query (letters and digits), for the trigram match: each must be found. */
export function queryWords(query: string): string[] {
  return query.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0).slice(0, MAX_SIMILAR_WORDS);
}

/** Whether the query is plain words (no websearch operators): then typos are forgiven. */
export function typoTolerant(query: string): boolean {
  return !/["]|(^|\s)-|(^|\s)or(\s|$)/i.test(query);
}

function profileOf(row: ProfileRow): ProfileRecord {
  return {
    id: row.id,
    displayName: row.display_name,
    specialties: row.specialties ?? [],
    languages: row.languages ?? [],
    country: row.country,
    city: row.city,
    latitude: Number(row.latitude),
    longitude: Number(row.longitude),
    priceAmount: row.price_amount,
    priceCurrency: row.price_currency,
    consultationMinutes: Number(row.consultation_minutes),
    timeZone: row.time_zone,
    bio: row.bio,
    verified: row.verified,
    nextAvailableAt: row.next_available_at ? new Date(row.next_available_at) : null,
    rejection: row.rejected_at ? { at: row.rejected_at, by: row.rejected_by ?? null, reason: row.rejection_reason ?? '' } : null,
  };
}

function hit(row: SearchRow): SearchHit {
  const result: SearchHit = profileOf(row);
  if (row.distance_km !== null) result.distanceKm = Number(row.distance_km);
  if (row.chord_km !== null) result.chordKm = Number(row.chord_km);
  return result;
}
