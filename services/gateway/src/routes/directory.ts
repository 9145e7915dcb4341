import type { FastifyInstance } from 'fastify';
import { Type, type Static } from 'typebox';
import { GrpcStatus, AppError } from '@cryptocare/platform';
import type { Backends } from '../clients';
import { presentProfile, presentReviewedProfile } from '../presenters';
import { principalOf, type Authenticator } from '../auth';
import { HttpError } from '../http-errors';
import { answerIn } from '../i18n/language';
import { byName, countryName, specialtyName } from '../i18n/reference-labels';
import { bearer, errorResponses, IdParams, Money, NoContent, Page, Refs } from './schemas';

const ProfileBody = Type.Object(
  {
    specialties: Type.Array(Type.String({ maxLength: 60 }), { minItems: 1, maxItems: 10 }),
    languages: Type.Array(Type.String({ maxLength: 5 }), { minItems: 1, maxItems: 10 }),
    country: Type.String({ minLength: 2, maxLength: 2 }),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    price: Money,
    consultationMinutes: Type.Integer({ minimum: 10, maximum: 180 }),
    timeZone: Type.String({ minLength: 1, maxLength: 64 }),
    bio: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { additionalProperties: false },
);

const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  specialty: Type.Optional(Type.String({ maxLength: 60 })),
  country: Type.Optional(Type.String({ minLength: 2, maxLength: 2 })),
  language: Type.Optional(Type.String({ maxLength: 5 })),
  lat: Type.Optional(Type.Number({ minimum: -90, maximum: 90 })),
  lng: Type.Optional(Type.Number({ minimum: -180, maximum: 180 })),
  radiusKm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500 })),
  availableBefore: Type.Optional(Type.String({ format: 'date-time' })),
  maxPrice: Type.Optional(Type.String({ pattern: '^\\d{1,5}(\\.\\d{1,2})?$' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

const SpecialtyList = Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name: Type.String() })) });
const CountryList = Type.Object({ items: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), currency: Type.String() })) });
const TimeOffView = Type.Object({ id: Type.String(), start: Type.String(), end: Type.String(), reason: Type.String() });
const SlotList = Type.Object({
  timeZone: Type.Union([Type.String(), Type.Null()], { description: "the professional's time zone" }),
  items: Type.Array(Type.Object({ start: Type.String(), end: Type.String() })),
});

const ReviewQuery = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('verified'), Type.Literal('rejected')], { description: 'pending (the default): waiting for verification' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
const SubmittedProfile = Type.Object({
  profile: Refs.Professional,
  submittedAt: Type.String({ description: 'when the profile was first submitted' }),
  updatedAt: Type.String({ description: 'when it last changed' }),
});

const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 1, maxLength: 500, description: 'shown to the professional: why, and what to change (plain text)' }) },
  { additionalProperties: false },
);

const SlotsQuery = Type.Object({ from: Type.Optional(Type.String({ format: 'date-time' })), to: Type.Optional(Type.String({ format: 'date-time' })) });

const WeeklyRule = Type.Object(
  { weekday: Type.Integer({ minimum: 1, maximum: 7 }), start: Type.String({ pattern: '^\\d{2}:\\d{2}$' }), end: Type.String({ pattern: '^\\d{2}:\\d{2}$' }) },
  { additionalProperties: false },
);
const ScheduleBody = Type.Object(
  {
    rules: Type.Array(WeeklyRule, { maxItems: 70 }),
    slotMinutes: Type.Integer({ minimum: 5, maximum: 240 }),
    bufferMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 120 })),
    minimumNoticeMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 10080 })),
    horizonDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })),
  },
  { additionalProperties: false },
);
const TimeOffBody = Type.Object(
  { start: Type.String({ format: 'date-time' }), end: Type.String({ format: 'date-time' }), reason: Type.Optional(Type.String({ maxLength: 200 })) },
  { additionalProperties: false },
);

export function directoryRoutes(app: FastifyInstance, backends: Backends, auth: Authenticator) {
  const professional = auth.requireRole('professional');

  const inLanguage = { headers: Type.Object({ 'accept-language': Type.Optional(Type.String({ description: 'fr, de, it or en (the default); q-values honoured' })) }) };

  app.get(
    '/v1/specialties',
    { schema: { tags: ['directory'], operationId: 'listSpecialties', summary: 'Specialties, named in the language asked for (cached 1 h)', ...inLanguage, response: { 200: SpecialtyList, ...errorResponses } } },
    async (request, reply) => {
      const language = answerIn(request, reply);
      reply.header('cache-control', 'public, max-age=3600');
      const { specialties } = await backends.search.listSpecialties({});
      return { items: specialties.map((s) => ({ code: s.code, name: specialtyName(s.code, language, s.name) })).sort(byName(language)) };
    },
  );

  app.get(
    '/v1/countries',
    { schema: { tags: ['directory'], operationId: 'listCountries', summary: 'Countries served, named in the language asked for (cached 1 h)', ...inLanguage, response: { 200: CountryList, ...errorResponses } } },
    async (request, reply) => {
      const language = answerIn(request, reply);
      reply.header('cache-control', 'public, max-age=3600');
      const { countries } = await backends.search.listCountries({});
      return { items: countries.map((c) => ({ code: c.code, name: countryName(c.code, language, c.name), currency: c.currency })).sort(byName(language)) };
    },
  );

  app.get<{ Querystring: Static<typeof SearchQuery> }>(
    '/v1/professionals',
    { schema: { tags: ['directory'], operationId: 'searchProfessionals', summary: 'Search verified professionals', querystring: SearchQuery, response: { 200: Page(Refs.Professional), ...errorResponses } } },
    async (request, reply) => {
      const language = answerIn(request, reply);
      const q = request.query;
      if ((q.lat === undefined) !== (q.lng === undefined)) throw new HttpError(400, 'INVALID_PLACE', 'lat and lng go together');
      const res = await backends.search.searchProfessionals(
        {
          query: q.q ?? '',
          specialty: q.specialty ?? '',
          country: q.country?.toUpperCase() ?? '',
          language: q.language ?? '',
          ...(q.lat !== undefined ? { latitude: q.lat, longitude: q.lng } : {}),
          ...(q.radiusKm !== undefined ? { radiusKm: q.radiusKm } : {}),
          availableBefore: q.availableBefore ?? '',
          ...(q.maxPrice !== undefined ? { maxPrice: q.maxPrice } : {}),
          limit: q.limit ?? 20,
          cursor: q.cursor ?? '',
        },
        { deadlineMs: 800 },
      );
      return { items: res.items.map((p) => presentProfile(p, language)), nextCursor: res.nextCursor || null };
    },
  );

  app.get<{ Params: IdParams }>(
    '/v1/professionals/:id',
    { schema: { tags: ['directory'], operationId: 'getProfessional', summary: 'Public profile', params: IdParams, response: { 200: Refs.Professional, ...errorResponses } } },
    async (request, reply) => {
      const language = answerIn(request, reply);
      const { profile } = await backends.search.getProfile({ professionalId: request.params.id });
      return presentProfile(profile!, language);
    },
  );

  app.put<{ Body: Static<typeof ProfileBody> }>(
    '/v1/professionals/me',
    { schema: { tags: ['professionals'], operationId: 'saveMyProfile', summary: 'Create or update my profile', security: bearer, body: ProfileBody, response: { 200: Refs.Professional, ...errorResponses } }, preHandler: professional },
    async (request, reply) => {
      const language = answerIn(request, reply);
      const me = principalOf(request);
      const { user } = await backends.identity.getUser({ userId: me.userId });
      const b = request.body;
      const { profile } = await backends.search.upsertProfile({
        profile: { ...b, id: me.userId, displayName: user!.displayName, country: b.country.toUpperCase(), bio: b.bio ?? '' },
      });
      return presentReviewedProfile(profile!, language);
    },
  );

  app.get(
    '/v1/professionals/me',
    { schema: { tags: ['professionals'], operationId: 'getMyProfile', summary: 'My profile, verified or not yet (404 before I create it)', security: bearer, response: { 200: Refs.Professional, ...errorResponses } }, preHandler: professional },
    async (request, reply) => {
      const { profile } = await backends.search.getProfile({ professionalId: principalOf(request).userId, includeUnverified: true });
      return presentReviewedProfile(profile!, answerIn(request, reply));
    },
  );

  app.get(
    '/v1/professionals/me/schedule',
    { schema: { tags: ['professionals'], operationId: 'getMySchedule', summary: 'My weekly schedule and absences (404 before I set one)', security: bearer, response: { 200: Refs.Schedule, ...errorResponses } }, preHandler: professional },
    async (request) => (await backends.appointment.getSchedule({ professionalId: principalOf(request).userId })).schedule,
  );

  app.get(
    '/v1/professionals/me/time-off',
    { schema: { tags: ['professionals'], operationId: 'listMyTimeOff', summary: 'My absences', security: bearer, response: { 200: Type.Object({ items: Type.Array(TimeOffView) }), ...errorResponses } }, preHandler: professional },
    async (request) => {
      try {
        const { schedule } = await backends.appointment.getSchedule({ professionalId: principalOf(request).userId });
        return { items: (schedule?.timeOff ?? []).map((t) => ({ id: t.id, start: t.startAt, end: t.endAt, reason: t.reason })) };
      } catch (err) {
        if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) return { items: [] }; // no schedule yet: no absence either
        throw err;
      }
    },
  );

  app.get<{ Querystring: Static<typeof ReviewQuery> }>(
    '/v1/admin/professionals',
    {
      schema: {
        tags: ['admin'],
        operationId: 'listProfessionalsForReview',
        summary: 'Professionals waiting for verification (or verified), oldest submission first, with what they declared',
        security: bearer,
        querystring: ReviewQuery,
        response: { 200: Page(SubmittedProfile), ...errorResponses },
      },
      preHandler: auth.requireRole('admin'),
    },
    async (request, reply) => {
      const language = answerIn(request, reply);
      const q = request.query;
      const res = await backends.search.listProfessionals({ verified: q.status === 'verified', state: q.status ?? 'pending', limit: q.limit ?? 20, cursor: q.cursor ?? '' });
      reply.header('cache-control', 'no-store, private');
      return {
        items: res.items.map((i) => ({ profile: presentReviewedProfile(i.profile!, language), submittedAt: i.submittedAt, updatedAt: i.updatedAt })),
        nextCursor: res.nextCursor || null,
      };
    },
  );

  app.post<{ Params: IdParams }>(
    '/v1/admin/professionals/:id/verify',
    { schema: { tags: ['admin'], operationId: 'verifyProfessional', summary: 'Verify a professional (then listed in search)', security: bearer, params: IdParams, response: { 200: Refs.Professional, ...errorResponses } }, preHandler: auth.requireRole('admin') },
    async (request, reply) =>
      presentReviewedProfile((await backends.search.verifyProfessional({ professionalId: request.params.id, adminId: principalOf(request).userId })).profile!, answerIn(request, reply)),
  );

  app.post<{ Params: IdParams; Body: Static<typeof RejectBody> }>(
    '/v1/admin/professionals/:id/reject',
    {
      schema: {
        tags: ['admin'],
        operationId: 'rejectProfessional',
        summary: 'Reject a professional waiting for verification, with the reason they read (409 ALREADY_VERIFIED once verified; again: the latest reason wins)',
        security: bearer,
        params: IdParams,
        body: RejectBody,
        response: { 200: Refs.Professional, ...errorResponses },
      },
      preHandler: auth.requireRole('admin'),
    },
    async (request, reply) => {
      const { profile } = await backends.search.rejectProfessional({ professionalId: request.params.id, adminId: principalOf(request).userId, reason: request.body.reason });
      return presentReviewedProfile(profile!, answerIn(request, reply));
    },
  );

  app.put<{ Body: Static<typeof ScheduleBody> }>(
    '/v1/professionals/me/schedule',
    { schema: { tags: ['professionals'], operationId: 'setMySchedule', summary: 'Set my weekly schedule (in my profile time zone)', security: bearer, body: ScheduleBody, response: { 200: Refs.Schedule, ...errorResponses } }, preHandler: professional },
    async (request) => {
      const me = principalOf(request);
      const profile = await ownProfile(backends, me.userId);
      const b = request.body;
      const { schedule } = await backends.appointment.setSchedule({
        schedule: {
          professionalId: me.userId,
          timeZone: profile.timeZone,
          rules: b.rules,
          slotMinutes: b.slotMinutes,
          bufferMinutes: b.bufferMinutes ?? 0,
          minimumNoticeMinutes: b.minimumNoticeMinutes ?? 60,
          horizonDays: b.horizonDays ?? 60,
        },
      });
      return schedule;
    },
  );

  app.post<{ Body: Static<typeof TimeOffBody> }>(
    '/v1/professionals/me/time-off',
    { schema: { tags: ['professionals'], operationId: 'addTimeOff', summary: 'Add an absence', security: bearer, body: TimeOffBody, response: { 201: TimeOffView, ...errorResponses } }, preHandler: professional },
    async (request, reply) => {
      const { timeOff } = await backends.appointment.addTimeOff({
        professionalId: principalOf(request).userId,
        timeOff: { startAt: request.body.start, endAt: request.body.end, reason: request.body.reason ?? '' },
      });
      return reply.status(201).send({ id: timeOff!.id, start: timeOff!.startAt, end: timeOff!.endAt, reason: timeOff!.reason });
    },
  );

  app.delete<{ Params: IdParams }>(
    '/v1/professionals/me/time-off/:id',
    { schema: { tags: ['professionals'], operationId: 'removeTimeOff', summary: 'Remove an absence', security: bearer, params: IdParams, response: { 204: NoContent, ...errorResponses } }, preHandler: professional },
    async (request, reply) => {
      await backends.appointment.removeTimeOff({ professionalId: principalOf(request).userId, timeOffId: request.params.id });
      return reply.status(204).send();
    },
  );

  app.get<{ Params: IdParams; Querystring: Static<typeof SlotsQuery> }>(
    '/v1/professionals/:id/slots',
    { schema: { tags: ['directory'], operationId: 'listSlots', summary: 'Free slots (UTC instants)', params: IdParams, querystring: SlotsQuery, response: { 200: SlotList, ...errorResponses } } },
    async (request) => {
      const from = request.query.from ?? new Date().toISOString();
      const to = request.query.to ?? new Date(Date.parse(from) + 7 * 86_400_000).toISOString();
      const res = await backends.appointment.listSlots({ professionalId: request.params.id, from, to }, { deadlineMs: 800 });
      return { timeZone: res.timeZone || null, items: res.slots.map((s) => ({ start: s.startAt, end: s.endAt })) };
    },
  );
}

async function ownProfile(backends: Backends, professionalId: string) {
  try {
    return (await backends.search.getProfile({ professionalId, includeUnverified: true })).profile!;
  } catch (err) {
    if (err instanceof AppError && err.status === GrpcStatus.NOT_FOUND) throw new HttpError(409, 'PROFILE_REQUIRED', 'create your profile (PUT /v1/professionals/me) first');
    throw err;
  }
}
