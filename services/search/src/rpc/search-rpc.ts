import { LRUCache } from 'lru-cache';
import { search } from '@cryptocare/contracts';
import { defineService, failedPrecondition, invalidArgument, isUuid, notFound, type Logger } from '@cryptocare/platform';
import { checkProfile, type Problem, type ReferenceData } from '../domain/profile';
import { checkRejectionReason, reviewState, type ReviewState } from '../domain/review';
import { checkSearch, encodeCursor } from '../domain/search-criteria';
import type { DirectoryCache } from '../store/directory-cache';
import type { DirectoryStore, SearchHit, SubmissionKey } from '../store/directory-store';

/** How long a search process keeps the reference lists it checks criteria against. */
export const REFERENCE_IN_PROCESS_MS = 60_000;

/** A stored profile as the contract's message (also what the profile cache holds). */
export function profileMessage(p: SearchHit): search.Profile {
  const message: search.Profile = {
    id: p.id,
    displayName: p.displayName,
    specialties: p.specialties,
    languages: p.languages,
    country: p.country,
    city: p.city,
    latitude: p.latitude,
    longitude: p.longitude,
    price: { amount: p.priceAmount, currency: p.priceCurrency },
    consultationMinutes: p.consultationMinutes,
    timeZone: p.timeZone,
    bio: p.bio,
    verified: p.verified,
    nextAvailableAt: p.nextAvailableAt?.toISOString() ?? '',
    review: {
      state: reviewState({ verified: p.verified, rejectedAt: p.rejection?.at ?? null }),
      reason: p.rejection?.reason ?? '',
      decidedAt: p.rejection?.at.toISOString() ?? '',
      decidedBy: p.rejection?.by ?? '',
    },
  };
  // Shown rounded to 10 m; the cursor keeps the exact value.
  if (p.distanceKm !== undefined) message.distanceKm = Math.round(p.distanceKm * 100) / 100;
  return message;
}

/** The verification queue's cursor: the last item's submission instant and id, opaque to clients. */
export function encodeSubmissionCursor(key: SubmissionKey): string {
  return Buffer.from(`${key.submittedAt.toISOString()}|${key.id}`, 'utf8').toString('base64url');
}

export function decodeSubmissionCursor(cursor: string): SubmissionKey | undefined {
  if (cursor.length > 200 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  const [at, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (rest.length > 0 || !at || !id || !isUuid(id) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(at)) return undefined;
  const submittedAt = new Date(at);
  return Number.isNaN(submittedAt.getTime()) ? undefined : { submittedAt, id: id.toLowerCase() };
}

const refuse = (problem: Problem) => invalidArgument(problem.code, problem.message);

const professionalNotFound = () => notFound('PROFESSIONAL_NOT_FOUND', 'no such professional');

const REVIEW_STATES: readonly string[] = ['pending', 'verified', 'rejected'] satisfies ReviewState[];

export function searchService(deps: { store: DirectoryStore; cache: DirectoryCache; logger: Logger }) {
  const { store, cache } = deps;

  const specialties = () => cache.reference('specialties', () => store.specialties());
  const countries = () => cache.reference('countries', () => store.countries());

  // What every search and profile is checked against, kept in this process for a minute on top of
  // the cache's hour. Why: it was two cache reads (and two JSON parses) before each search's own,
  // one round trip to Redis more on the platform's busiest read, for lists that only a migration
  // changes (services/search/prisma/migrations). fetch() shares one load between simultaneous
  // callers and keeps nothing when the load fails.
  const checkedAgainst = new LRUCache<'reference', ReferenceData>({
    max: 1,
    ttl: REFERENCE_IN_PROCESS_MS,
    fetchMethod: async () => {
      const [s, c] = await Promise.all([specialties(), countries()]);
      return { specialties: new Set(s.map((x) => x.code)), currencyOf: new Map(c.map((x) => [x.code, x.currency])) };
    },
  });
  async function reference(): Promise<ReferenceData> {
    return (await checkedAgainst.fetch('reference'))!; // fetchMethod always answers or throws
  }

  function checkId(id: string): string {
    if (!isUuid(id)) throw invalidArgument('INVALID_PROFESSIONAL_ID', 'professional id must be a UUID');
    return id.toLowerCase();
  }

  return defineService(
    search,
    'SearchService',
    {
      async upsertProfile(req) {
        const p = req.profile;
        if (!p) throw invalidArgument('INVALID_PROFILE', 'profile is required');
        const checked = checkProfile(
          {
            id: p.id,
            displayName: p.displayName,
            specialties: p.specialties,
            languages: p.languages,
            country: p.country,
            city: p.city,
            latitude: p.latitude,
            longitude: p.longitude,
            price: p.price,
            consultationMinutes: p.consultationMinutes,
            timeZone: p.timeZone,
            bio: p.bio,
          },
          await reference(),
        );
        if (!checked.ok) throw refuse(checked.problem);
        const saved = await store.upsert(checked.value);
        await cache.invalidateListing(saved.id);
        return { profile: profileMessage(saved) };
      },

      async getProfile(req) {
        const id = checkId(req.professionalId);
        // Cached whether verified or not; who may see it is decided per request.
        const profile = await cache.profile(id, async () => {
          const found = await store.find(id);
          if (!found) throw professionalNotFound(); // not cached: a profile may appear any time
          return profileMessage(found);
        });
        if (!profile.verified && !req.includeUnverified) throw professionalNotFound();
        return { profile };
      },

      async searchProfessionals(req) {
        const checked = checkSearch(
          {
            query: req.query,
            specialty: req.specialty,
            country: req.country,
            language: req.language,
            latitude: req.latitude,
            longitude: req.longitude,
            radiusKm: req.radiusKm,
            availableBefore: req.availableBefore,
            maxPrice: req.maxPrice,
            limit: req.limit,
            cursor: req.cursor,
          },
          await reference(),
        );
        if (!checked.ok) throw refuse(checked.problem);
        return cache.searchPage(checked.value, async () => {
          const page = await store.search(checked.value);
          return { items: page.items.map(profileMessage), nextCursor: page.next ? encodeCursor(page.next) : '' };
        });
      },

      async verifyProfessional(req) {
        const id = checkId(req.professionalId);
        const verified = await store.verify(id, isUuid(req.adminId) ? req.adminId.toLowerCase() : undefined);
        if (!verified) throw professionalNotFound();
        await cache.invalidateListing(id);
        return { profile: profileMessage(verified) };
      },

      async rejectProfessional(req) {
        const id = checkId(req.professionalId);
        const reason = checkRejectionReason(req.reason);
        if (!reason.ok) throw refuse(reason.problem);
        const outcome = await store.reject(id, isUuid(req.adminId) ? req.adminId.toLowerCase() : undefined, reason.value);
        if ('refused' in outcome) {
          if (outcome.refused === 'not_found') throw professionalNotFound();
          throw failedPrecondition('ALREADY_VERIFIED', 'this professional is verified already: a verified profile cannot be rejected');
        }
        await cache.invalidateProfile(id);
        return { profile: profileMessage(outcome.rejected) };
      },

      async listSpecialties() {
        return { specialties: await specialties() };
      },

      async listCountries() {
        return { countries: await countries() };
      },

      async listProfessionals(req) {
        const limit = req.limit === 0 ? 20 : req.limit;
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidArgument('INVALID_LIMIT', 'limit must be between 1 and 100');
        const after = req.cursor ? decodeSubmissionCursor(req.cursor) : undefined;
        if (req.cursor && !after) throw invalidArgument('INVALID_CURSOR', 'cursor is not one this service issued');
        if (req.state && !REVIEW_STATES.includes(req.state)) throw invalidArgument('INVALID_REVIEW_STATE', 'state must be pending, verified or rejected');
        const state = (req.state || (req.verified ? 'verified' : 'pending')) as ReviewState;
        const page = await store.byReviewState(state, limit, after);
        return {
          items: page.items.map((p) => ({ profile: profileMessage(p), submittedAt: p.submittedAt.toISOString(), updatedAt: p.updatedAt.toISOString() })),
          nextCursor: page.next ? encodeSubmissionCursor(page.next) : '',
        };
      },
    },
    deps.logger,
  );
}
