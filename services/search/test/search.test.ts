import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import pg from 'pg';
import { events, search } from '@cryptocare/contracts';
import { MemoryCache, RedisCache } from '@cryptocare/cache';
import { createGrpcClient, type DeepPartial, type GrpcClient } from '@cryptocare/platform';
import { InProcessBus, decodeEnvelope, encodeEnvelope, newEvent, type BusMessage } from '@cryptocare/events';
import { eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import { haversineKm } from '../src/domain/geo';
import { main } from '../src/main';

type Client = GrpcClient<typeof search, 'SearchService'>;

/** A word no other test's profiles contain: scopes a search to one test's data. */
const token = () => `tok${randomUUID().replace(/-/g, '').slice(0, 12)}`;

const ZURICH = { latitude: 47.3769, longitude: 8.5417 };
const BERN = { latitude: 46.948, longitude: 7.4474 };
const BASEL = { latitude: 47.5596, longitude: 7.5886 };
const GENEVA = { latitude: 46.2044, longitude: 6.1432 };
const LUGANO = { latitude: 46.0037, longitude: 8.9511 };

function profile(overrides: DeepPartial<search.Profile> = {}): DeepPartial<search.Profile> {
  return {
    id: randomUUID(),
    displayName: 'Dr. Anna Keller',
    specialties: ['general-practice'],
    languages: ['de', 'en'],
    country: 'CH',
    city: 'Zürich',
    ...ZURICH,
    price: { amount: '120.00', currency: 'CHF' },
    consultationMinutes: 30,
    timeZone: 'Europe/Zurich',
    bio: 'Family doctor.',
    ...overrides,
  };
}

describe('search service (real PostgreSQL)', () => {
  let service: Awaited<ReturnType<typeof main>>;
  let client: Client;
  let schema: string;
  let pool: pg.Pool;
  const bus = new InProcessBus();
  const published: BusMessage[] = [];
  const audited: BusMessage[] = [];
  const memory = new MemoryCache();

  beforeAll(async () => {
    schema = await migratedSchema('search');
    pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
    await bus.subscribe({ groupId: 'test', topics: [events.topics.search], handle: async (m) => void published.push(m) });
    await bus.subscribe({ groupId: 'test-audit', topics: [events.topics.audit], handle: async (m) => void audited.push(m) });
    // Search pages uncached here: these tests watch each change reach the search at once (the
    // cached pages have a test of their own, below).
    service = await main(
      { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', NODE_ENV: 'test', SEARCH_CACHE_SECONDS: '0', AVAILABILITY_MOVE_EVERY_MS: '200' },
      { bus, cache: memory },
    );
    client = createGrpcClient(search, 'SearchService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await service.stop();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  const sql = (text: string, ...values: unknown[]) => pool.query(text.replaceAll('$schema', `"${schema}"`), values);

  /** Upserts and verifies: a profile the directory shows. */
  async function listed(overrides: DeepPartial<search.Profile> = {}) {
    const { profile: saved } = await client.upsertProfile({ profile: profile(overrides) });
    await client.verifyProfessional({ professionalId: saved!.id });
    return saved!.id;
  }

  /** Every page of a search, following cursors; fails on a repeated id. */
  async function searchAll(req: DeepPartial<search.SearchProfessionalsRequest>) {
    const items: search.Profile[] = [];
    let cursor = '';
    for (let page = 0; page < 100; page++) {
      const res = await client.searchProfessionals({ ...req, cursor });
      items.push(...res.items);
      if (!res.nextCursor) break;
      cursor = res.nextCursor;
    }
    expect(new Set(items.map((i) => i.id)).size).toBe(items.length);
    return items;
  }
  const ids = async (req: DeepPartial<search.SearchProfessionalsRequest>) => (await searchAll(req)).map((i) => i.id);

  async function publishEvent<T extends events.EventType>(type: T, subject: string, data: events.EventData<T>, time?: Date, to: InProcessBus = bus) {
    const event = newEvent(type.slice(0, type.indexOf('.')), type, subject, data, time);
    const topic = type.startsWith('identity.') ? events.topics.identity : events.topics.appointment;
    await to.publish(topic, [{ key: subject, value: encodeEnvelope(event), headers: { 'event-id': event.id } }]);
    await eventually(async () => (await to.lag('search', [topic]))[0]!.lag === 0);
    // The group's queue is empty once the handler started; wait for its commit too.
    await eventually(async () => (await sql(`SELECT 1 FROM $schema.processed_events WHERE event_id = $1`, event.id)).rowCount === 1);
  }

  describe('UpsertProfile', () => {
    const cases: Array<[string, DeepPartial<search.Profile>]> = [
      ['INVALID_PROFESSIONAL_ID', { id: 'not-a-uuid' }],
      ['INVALID_DISPLAY_NAME', { displayName: '   ' }],
      ['UNKNOWN_SPECIALTY', { specialties: ['cardiology', 'astrology'] }],
      ['UNKNOWN_SPECIALTY', { specialties: [] }],
      ['INVALID_LANGUAGE', { languages: ['de', 'german'] }],
      ['INVALID_LANGUAGE', { languages: ['xx'] }],
      ['INVALID_LANGUAGE', { languages: [] }],
      ['UNKNOWN_COUNTRY', { country: 'US' }],
      ['INVALID_CITY', { city: '' }],
      ['INVALID_COORDINATES', { latitude: 91 }],
      ['INVALID_COORDINATES', { longitude: -180.5 }],
      ['INVALID_PRICE', { price: { amount: '0', currency: 'CHF' } }],
      ['INVALID_PRICE', { price: { amount: '-5', currency: 'CHF' } }],
      ['INVALID_PRICE', { price: { amount: '12.345', currency: 'CHF' } }],
      ['INVALID_PRICE', { price: { amount: '10000.01', currency: 'CHF' } }],
      ['INVALID_PRICE', { price: { amount: 'abc', currency: 'CHF' } }],
      ['INVALID_PRICE', { price: undefined }],
      ['CURRENCY_MISMATCH', { price: { amount: '120.00', currency: 'EUR' } }],
      ['CURRENCY_MISMATCH', { country: 'FR', price: { amount: '120.00', currency: 'CHF' } }],
      ['INVALID_CONSULTATION_LENGTH', { consultationMinutes: 9 }],
      ['INVALID_CONSULTATION_LENGTH', { consultationMinutes: 181 }],
      ['INVALID_TIME_ZONE', { timeZone: 'Europe/Atlantis' }],
      ['INVALID_TIME_ZONE', { timeZone: '' }],
      ['BIO_TOO_LONG', { bio: 'x'.repeat(2001) }],
    ];

    it.each(cases)('refuses with %s (%j) and writes nothing', async (code, overrides) => {
      const p = profile(overrides);
      await expect(client.upsertProfile({ profile: p })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code });
      if (typeof p.id === 'string' && p.id.length === 36) {
        expect((await sql(`SELECT 1 FROM $schema.professionals WHERE id = $1`, p.id)).rowCount).toBe(0);
      }
    });

    it('accepts the limits and normalises codes, zone and price', async () => {
      const { profile: saved } = await client.upsertProfile({
        profile: profile({
          specialties: ['Cardiology', 'cardiology'],
          languages: ['DE', 'fr'],
          country: 'fr',
          price: { amount: '10000', currency: 'eur' },
          consultationMinutes: 180,
          timeZone: 'europe/paris',
          bio: 'é'.repeat(2000),
          latitude: -90,
          longitude: 180,
        }),
      });
      expect(saved).toMatchObject({
        specialties: ['cardiology'],
        languages: ['de', 'fr'],
        country: 'FR',
        price: { amount: '10000.00', currency: 'EUR' },
        consultationMinutes: 180,
        timeZone: 'Europe/Paris',
        verified: false,
        nextAvailableAt: '',
      });
      const low = await client.upsertProfile({ profile: profile({ price: { amount: '0.5', currency: 'CHF' }, consultationMinutes: 10 }) });
      expect(low.profile!.price).toEqual({ amount: '0.50', currency: 'CHF' });
    });

    it('publishes search.profile_updated and keeps verification across upserts', async () => {
      const p = profile({ timeZone: 'Europe/Zurich' });
      await client.upsertProfile({ profile: p });
      const first = await eventually(async () => published.map((m) => decodeEnvelope(m.value)).find((e) => 'type' in e && e.subject === p.id));
      expect(first).toMatchObject({ type: 'search.profile_updated', source: 'search', data: { professionalId: p.id, verified: false, timeZone: 'Europe/Zurich' } });

      await client.verifyProfessional({ professionalId: p.id! });
      // Trying to set verified (or the earliest slot) through an upsert changes nothing.
      const again = await client.upsertProfile({ profile: { ...p, city: 'Winterthur', verified: false, nextAvailableAt: '2030-01-01T00:00:00.000Z' } });
      expect(again.profile).toMatchObject({ city: 'Winterthur', verified: true, nextAvailableAt: '' });
      const forged = await client.upsertProfile({ profile: profile({ verified: true }) });
      expect(forged.profile!.verified).toBe(false);

      const updates = await eventually(async () => {
        const mine = published.map((m) => decodeEnvelope(m.value)).filter((e) => 'type' in e && e.subject === p.id);
        return mine.length === 3 && mine;
      });
      expect(updates.map((e) => ('data' in e ? (e.data as { verified: boolean }).verified : undefined))).toEqual([false, true, true]);
    });
  });

  describe('GetProfile and VerifyProfessional', () => {
    it('hides an unverified profile unless asked, until it is verified', async () => {
      const t = token();
      const { profile: saved } = await client.upsertProfile({ profile: profile({ bio: t }) });
      const id = saved!.id;
      await expect(client.getProfile({ professionalId: id })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'PROFESSIONAL_NOT_FOUND' });
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile).toMatchObject({ id, verified: false });
      expect(await ids({ query: t })).toEqual([]);

      const { profile: verified } = await client.verifyProfessional({ professionalId: id });
      expect(verified!.verified).toBe(true);
      expect((await client.getProfile({ professionalId: id })).profile).toMatchObject({ id, verified: true, bio: t });
      expect(await ids({ query: t })).toEqual([id]);
      // Idempotent.
      expect((await client.verifyProfessional({ professionalId: id })).profile!.verified).toBe(true);
    });

    it('lists the profiles waiting for verification, oldest first, page by page, with what they declared', async () => {
      const t = token();
      const submitted: string[] = [];
      for (const name of ['Dr. First', 'Dr. Second', 'Dr. Third']) submitted.push((await client.upsertProfile({ profile: profile({ displayName: name, bio: t }) })).profile!.id);
      await client.verifyProfessional({ professionalId: submitted[1]! });
      const all = async (verified: boolean) => {
        const seen: search.SubmittedProfile[] = [];
        let cursor = '';
        do {
          const page = await client.listProfessionals({ verified, limit: 2, cursor });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items);
          cursor = page.nextCursor;
        } while (cursor);
        return seen.filter((i) => i.profile!.bio === t);
      };
      const pending = await all(false);
      expect(pending.map((i) => i.profile!.id)).toEqual([submitted[0], submitted[2]]);
      expect(pending[0]).toMatchObject({ profile: { displayName: 'Dr. First', specialties: ['general-practice'], languages: ['de', 'en'], city: 'Zürich', price: { amount: '120.00', currency: 'CHF' }, verified: false } });
      expect(Date.parse(pending[0]!.submittedAt)).toBeLessThanOrEqual(Date.parse(pending[1]!.submittedAt));
      expect((await all(true)).map((i) => i.profile!.id)).toEqual([submitted[1]]);

      await expect(client.listProfessionals({ verified: false, limit: 2, cursor: 'forged' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_CURSOR' });
      const forged = Buffer.from(`2026-01-01T00:00:00.000Z|1' OR '1'='1`).toString('base64url');
      await expect(client.listProfessionals({ verified: false, limit: 2, cursor: forged })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
      await expect(client.listProfessionals({ verified: false, limit: 101, cursor: '' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_LIMIT' });
    });

    it('answers unknown and malformed ids with machine codes', async () => {
      await expect(client.getProfile({ professionalId: randomUUID(), includeUnverified: true })).rejects.toMatchObject({ code: 'PROFESSIONAL_NOT_FOUND' });
      await expect(client.getProfile({ professionalId: 'abc' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_PROFESSIONAL_ID' });
      await expect(client.verifyProfessional({ professionalId: randomUUID() })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'PROFESSIONAL_NOT_FOUND' });
      await expect(client.verifyProfessional({ professionalId: "1' OR '1'='1" })).rejects.toMatchObject({ code: 'INVALID_PROFESSIONAL_ID' });
    });
  });

  describe('RejectProfessional', () => {
    const admin = randomUUID();
    /** The events published about one professional, of one type. */
    const eventsOf = (messages: BusMessage[], type: string, subject: string): Array<{ data: any }> =>
      messages.map((m) => decodeEnvelope(m.value)).filter((e) => 'type' in e && e.type === type && e.subject === subject) as Array<{ data: any }>;
    const queue = async (state: string) => {
      const seen: string[] = [];
      let cursor = '';
      do {
        const page = await client.listProfessionals({ state, limit: 100, cursor });
        seen.push(...page.items.map((i) => i.profile!.id));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };

    it('rejects a profile waiting for review with a reason the owner reads until they save again; not listed, out of the queue; published and audited without the reason', async () => {
      const t = token();
      const { profile: saved } = await client.upsertProfile({ profile: profile({ bio: t }) });
      const id = saved!.id;
      expect(saved!.review).toEqual({ state: 'pending', reason: '', decidedAt: '', decidedBy: '' });
      // Cached while pending: the rejection must show through.
      await client.getProfile({ professionalId: id, includeUnverified: true });

      const before = new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();
      const { profile: rejected } = await client.rejectProfessional({ professionalId: id, adminId: admin.toUpperCase(), reason: '  Diploma unreadable.\nPlease upload a legible copy. ' });
      expect(rejected).toMatchObject({ id, verified: false, review: { state: 'rejected', reason: 'Diploma unreadable.\nPlease upload a legible copy.', decidedBy: admin } });
      // When it was decided: an instant of this run.
      expect(rejected!.review!.decidedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(rejected!.review!.decidedAt >= before).toBe(true);
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile!.review).toEqual(rejected!.review);
      await expect(client.getProfile({ professionalId: id })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'PROFESSIONAL_NOT_FOUND' });
      expect(await ids({ query: t })).toEqual([]);
      expect(await queue('pending')).not.toContain(id);
      expect((await client.listProfessionals({ verified: false, limit: 100, cursor: '' })).items.map((i) => i.profile!.id)).not.toContain(id);
      expect(await queue('rejected')).toContain(id);

      const updates = await eventually(async () => eventsOf(published, 'search.profile_updated', id).length === 2 && eventsOf(published, 'search.profile_updated', id));
      expect(updates.map((e) => e.data)).toEqual([
        { professionalId: id, verified: false, timeZone: 'Europe/Zurich', reviewState: 'pending' },
        { professionalId: id, verified: false, timeZone: 'Europe/Zurich', reviewState: 'rejected' },
      ]);
      const [entry] = await eventually(async () => eventsOf(audited, 'audit.recorded', id).length > 0 && eventsOf(audited, 'audit.recorded', id));
      expect(entry!.data).toMatchObject({ kind: 'professional.rejected', actorId: admin, subjectId: id, details: {} });
      expect(JSON.stringify(entry)).not.toContain('Diploma');

      // Saved again: pending once more, the reason gone, back in the queue.
      const { profile: resubmitted } = await client.upsertProfile({ profile: profile({ id, bio: t, city: 'Winterthur' }) });
      expect(resubmitted!.review).toEqual({ state: 'pending', reason: '', decidedAt: '', decidedBy: '' });
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile!.review!.state).toBe('pending');
      expect(await queue('pending')).toContain(id);
      expect(await queue('rejected')).not.toContain(id);
      await eventually(async () => eventsOf(published, 'search.profile_updated', id).at(-1)?.data.reviewState === 'pending' && eventsOf(published, 'search.profile_updated', id).length === 3);
    });

    it('refuses a verified profile (ALREADY_VERIFIED), a bad reason, unknown and malformed ids; rejecting again: the latest reason wins; verifying clears a rejection', async () => {
      const verifiedId = await listed();
      await expect(client.rejectProfessional({ professionalId: verifiedId, adminId: admin, reason: 'Too late.' })).rejects.toMatchObject({ status: status.FAILED_PRECONDITION, code: 'ALREADY_VERIFIED' });
      expect((await client.getProfile({ professionalId: verifiedId })).profile!.review!.state).toBe('verified');

      const { profile: saved } = await client.upsertProfile({ profile: profile() });
      const id = saved!.id;
      for (const reason of ['', ' \n\t ', 'x'.repeat(501), 'bad\u0000reason', 'bad\u001breason']) {
        await expect(client.rejectProfessional({ professionalId: id, adminId: admin, reason })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_REASON' });
      }
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile!.review!.state).toBe('pending');
      await expect(client.rejectProfessional({ professionalId: randomUUID(), adminId: admin, reason: 'Who?' })).rejects.toMatchObject({ status: status.NOT_FOUND, code: 'PROFESSIONAL_NOT_FOUND' });
      await expect(client.rejectProfessional({ professionalId: "1' OR '1'='1", adminId: admin, reason: 'Who?' })).rejects.toMatchObject({ code: 'INVALID_PROFESSIONAL_ID' });
      await expect(client.listProfessionals({ state: 'everything', limit: 10, cursor: '' })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_REVIEW_STATE' });

      // 500 characters is the limit; again: the latest reason wins.
      expect((await client.rejectProfessional({ professionalId: id, adminId: admin, reason: 'é'.repeat(500) })).profile!.review!.reason).toBe('é'.repeat(500));
      await client.rejectProfessional({ professionalId: id, adminId: admin, reason: 'First reason.' });
      await client.rejectProfessional({ professionalId: id, adminId: admin, reason: 'Second reason.' });
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile!.review!.reason).toBe('Second reason.');
      // Two admins at the same instant: both answered, one reason stands, the one the row holds.
      const other = randomUUID();
      const both = await Promise.all([
        client.rejectProfessional({ professionalId: id, adminId: admin, reason: 'Reason of one.' }),
        client.rejectProfessional({ professionalId: id, adminId: other, reason: 'Reason of the other.' }),
      ]);
      expect(both.map((r) => r.profile!.review!.state)).toEqual(['rejected', 'rejected']);
      const { rows } = await sql(`SELECT rejection_reason, rejected_by::text AS by FROM $schema.professionals WHERE id = $1`, id);
      expect([['Reason of one.', admin], ['Reason of the other.', other]]).toContainEqual([rows[0].rejection_reason, rows[0].by]);
      expect((await client.getProfile({ professionalId: id, includeUnverified: true })).profile!.review).toMatchObject({ reason: rows[0].rejection_reason, decidedBy: rows[0].by });

      // The database holds the rule too: a rejection is never a verification.
      await expect(sql(`UPDATE $schema.professionals SET verified = true WHERE id = $1`, id)).rejects.toThrow(/professionals_review/);
      await expect(sql(`UPDATE $schema.professionals SET rejection_reason = '' WHERE id = $1`, id)).rejects.toThrow(/professionals_review/);

      // An admin who changes their mind verifies: the rejection goes.
      const { profile: verified } = await client.verifyProfessional({ professionalId: id, adminId: admin });
      expect(verified).toMatchObject({ verified: true, review: { state: 'verified', reason: '', decidedAt: '', decidedBy: '' } });
      expect(await queue('rejected')).not.toContain(id);
      expect(await queue('verified')).toContain(id);
    });
  });

  describe('SearchProfessionals', () => {
    it('filters by specialty, language and country', async () => {
      const t = token();
      const gp = await listed({ bio: t, specialties: ['general-practice'], languages: ['de'] });
      const cardioFr = await listed({ bio: t, specialties: ['cardiology', 'general-practice'], languages: ['fr', 'en'], ...GENEVA, city: 'Genève' });
      const french = await listed({ bio: t, specialties: ['dermatology'], languages: ['fr'], country: 'FR', city: 'Lyon', latitude: 45.764, longitude: 4.8357, price: { amount: '60', currency: 'EUR' }, timeZone: 'Europe/Paris' });

      expect(new Set(await ids({ query: t }))).toEqual(new Set([gp, cardioFr, french]));
      expect(new Set(await ids({ query: t, specialty: 'general-practice' }))).toEqual(new Set([gp, cardioFr]));
      expect(await ids({ query: t, specialty: 'cardiology' })).toEqual([cardioFr]);
      expect(new Set(await ids({ query: t, language: 'FR' }))).toEqual(new Set([cardioFr, french]));
      expect(await ids({ query: t, country: 'fr' })).toEqual([french]);
      expect(await ids({ query: t, country: 'CH', language: 'en' })).toEqual([cardioFr]);
      // Without the full-text scope the filters still hold over the whole directory.
      const cardiologists = await searchAll({ specialty: 'cardiology' });
      expect(cardiologists.map((p) => p.id)).toContain(cardioFr);
      expect(cardiologists.every((p) => p.specialties.includes('cardiology') && p.verified)).toBe(true);

      await expect(client.searchProfessionals({ specialty: 'astrology' })).rejects.toMatchObject({ code: 'UNKNOWN_SPECIALTY' });
      await expect(client.searchProfessionals({ language: 'xx' })).rejects.toMatchObject({ code: 'INVALID_LANGUAGE' });
      await expect(client.searchProfessionals({ country: 'US' })).rejects.toMatchObject({ code: 'UNKNOWN_COUNTRY' });
    });

    it('searches full text over name, city, specialties and bio', async () => {
      const t = token();
      const keller = await listed({ displayName: `Dr. Anna Keller ${t}`, bio: 'Hausärztin mit Schwerpunkt Reisemedizin.' });
      const rossi = await listed({ displayName: 'Dr. Giulia Rossi', city: `Lugano ${t}`, ...LUGANO, specialties: ['dermatology'], bio: 'Skin and allergies.' });
      const favre = await listed({ displayName: 'Dr. Claire Favre', city: 'Genève', ...GENEVA, specialties: ['psychiatry'], bio: `Anxiety, sleep ${t}.` });

      expect(new Set(await ids({ query: t }))).toEqual(new Set([keller, rossi, favre]));
      expect(await ids({ query: `${t} keller` })).toEqual([keller]); // name, case-insensitive
      expect(await ids({ query: `${t} lugano` })).toEqual([rossi]); // city
      expect(await ids({ query: `${t} dermatology` })).toEqual([rossi]); // specialty code
      expect(await ids({ query: `${t} anxiety` })).toEqual([favre]); // bio
      expect(await ids({ query: `${t} -anxiety -lugano` })).toEqual([keller]); // websearch syntax
      expect(await ids({ query: `${t} "sleep ${t}"` })).toEqual([favre]); // phrase
      expect(await ids({ query: `${t} cardiology` })).toEqual([]);
      // Punctuation and operators in user input are not SQL and not a syntax error.
      expect(await ids({ query: `${t} '); DROP TABLE professionals; --` })).toEqual([]);
      await expect(client.searchProfessionals({ query: 'x'.repeat(201) })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
    });

    it('finds what people type: accents, city names in four languages, specialty synonyms, typos', async () => {
      const t = token();
      const keller = await listed({ displayName: `Dr. Anna Keller ${t}`, city: 'Zürich', ...ZURICH, specialties: ['cardiology'], bio: 'Herzpraxis.' });
      const favre = await listed({ displayName: `Dr. Claire Favre ${t}`, city: 'Genève', ...GENEVA, specialties: ['dermatology'], bio: 'Peau et allergies.' });
      const rossi = await listed({ displayName: `Dr. Giulia Rossi ${t}`, city: 'Lugano', ...LUGANO, specialties: ['pediatrics'], bio: 'Pediatra, visite per bambini.' });
      for (const spelling of ['zurich', 'Zürich', 'ZURICH', 'Zurigo', 'zuerich']) expect([spelling, await ids({ query: `${t} ${spelling}` })]).toEqual([spelling, [keller]]);
      for (const spelling of ['geneve', 'Genève', 'Geneva', 'Genf', 'Ginevra']) expect([spelling, await ids({ query: `${t} ${spelling}` })]).toEqual([spelling, [favre]]);
      for (const spelling of ['cardio', 'cardiology', 'cardiologie', 'Kardiologie', 'cardiologia', 'cardiologue', 'Kardiologe']) {
        expect([spelling, await ids({ query: `${t} ${spelling}` })]).toEqual([spelling, [keller]]);
      }
      for (const spelling of ['dermatologue', 'Dermatologie', 'dermatologia', 'Hautarzt', 'derma']) expect([spelling, await ids({ query: `${t} ${spelling}` })]).toEqual([spelling, [favre]]);
      expect(await ids({ query: `${t} Kinderarzt` })).toEqual([rossi]);
      // Stemmed in the bio's language: "bambino" finds "bambini" (Italian).
      expect(await ids({ query: `${t} bambino` })).toEqual([rossi]);
      // Typos in names, cities and specialties (every word close enough to a word of the profile).
      expect(await ids({ query: `${t} Kelller` })).toEqual([keller]);
      expect(await ids({ query: `${t} Genevve` })).toEqual([favre]);
      expect(await ids({ query: `${t} Favrre dermatolgy` })).toEqual([favre]);
      expect(await ids({ query: `${t} cardiolgy` })).toEqual([keller]);
      // A word that is nothing like any of them still narrows the search to nothing.
      expect(await ids({ query: `${t} orthopedics` })).toEqual([]);
      const notZurich = await ids({ query: `${t} -zurigo` });
      expect(new Set(notZurich)).toEqual(new Set([favre, rossi]));
    });

    it('refuses or survives hostile search parameters, never an internal error', async () => {
      const t = token();
      await listed({ displayName: `Dr. Hostile ${t}` });
      for (const query of ['\u0000', `${t}\u0000`, "'''", '\\', ':*', '!!&&||', '<->', '"', '-', 'or or or', '(', 'a:*B', '%_', '\u202e\u0301', 'ｚｕｒｉｃｈ', '🙂 zurich']) {
        await client.searchProfessionals({ query }).catch((err: { code?: string }) => expect([query, err.code]).toEqual([query, 'INVALID_QUERY']));
      }
      await expect(client.searchProfessionals({ query: 'é'.repeat(201) })).rejects.toMatchObject({ code: 'INVALID_QUERY' });
      await expect(client.searchProfessionals({ latitude: Number.NaN, longitude: 8 })).rejects.toMatchObject({ code: 'INVALID_COORDINATES' });
      await expect(client.searchProfessionals({ latitude: 47, longitude: 8, radiusKm: Number.POSITIVE_INFINITY })).rejects.toMatchObject({ code: 'INVALID_RADIUS' });
      const forged = Buffer.from(JSON.stringify({ v: 2, c: 1e308, i: randomUUID() })).toString('base64url');
      expect((await client.searchProfessionals({ ...ZURICH, cursor: forged })).items).toEqual([]);
    });

    it('searches by place: within the radius, nearest first, with distances', async () => {
      const t = token();
      const zurich = await listed({ bio: t, ...ZURICH, city: 'Zürich' });
      const basel = await listed({ bio: t, ...BASEL, city: 'Basel' });
      const bern = await listed({ bio: t, ...BERN, city: 'Bern' });
      const geneva = await listed({ bio: t, ...GENEVA, city: 'Genève' });

      // Default radius 50 km around Zürich: Basel is ~74 km away, Bern ~95 km.
      const near = await searchAll({ query: t, ...ZURICH });
      expect(near.map((p) => p.id)).toEqual([zurich]);
      expect(near[0]!.distanceKm).toBeCloseTo(0, 2);

      const wide = await searchAll({ query: t, ...ZURICH, radiusKm: 120 });
      expect(wide.map((p) => p.id)).toEqual([zurich, basel, bern]);
      expect(wide[1]!.distanceKm).toBeCloseTo(haversineKm(ZURICH.latitude, ZURICH.longitude, BASEL.latitude, BASEL.longitude), 1);
      expect(wide[2]!.distanceKm).toBeCloseTo(haversineKm(ZURICH.latitude, ZURICH.longitude, BERN.latitude, BERN.longitude), 1);
      expect(wide[1]!.distanceKm).toBeGreaterThan(70);
      expect(wide[1]!.distanceKm).toBeLessThan(80);

      const all = await searchAll({ query: t, ...GENEVA, radiusKm: 500 });
      expect(all.map((p) => p.id)).toEqual([geneva, bern, basel, zurich]);
      // Not searched by place: no distance.
      expect((await searchAll({ query: t }))[0]!.distanceKm).toBeUndefined();

      await expect(client.searchProfessionals({ latitude: 47 })).rejects.toMatchObject({ code: 'INVALID_COORDINATES' });
      await expect(client.searchProfessionals({ radiusKm: 10 })).rejects.toMatchObject({ code: 'INVALID_COORDINATES' });
      await expect(client.searchProfessionals({ ...ZURICH, radiusKm: 501 })).rejects.toMatchObject({ code: 'INVALID_RADIUS' });
      await expect(client.searchProfessionals({ ...ZURICH, radiusKm: 0 })).rejects.toMatchObject({ code: 'INVALID_RADIUS' });
    });

    it('finds places across the antimeridian and near a pole', async () => {
      const t = token();
      // Coordinates anywhere on Earth are valid even if the country is not (a travelling doctor).
      const east = await listed({ bio: t, latitude: -16.5, longitude: 179.9 });
      const west = await listed({ bio: t, latitude: -16.5, longitude: -179.9 });
      const pole = await listed({ bio: t, latitude: 89.9, longitude: 10 });
      const across = await searchAll({ query: t, latitude: -16.5, longitude: 179.95, radiusKm: 50 });
      expect(across.map((p) => p.id)).toEqual([east, west]); // ~5 km and ~16 km
      expect(across[1]!.distanceKm).toBeCloseTo(haversineKm(-16.5, 179.95, -16.5, -179.9), 1);
      // Over the pole: ~22 km away although the longitudes differ by 180°.
      expect(await ids({ query: t, latitude: 89.9, longitude: -170, radiusKm: 50 })).toEqual([pole]);
    });

    it('filters by earliest free slot and maximum price', async () => {
      const t = token();
      const soon = await listed({ bio: t, price: { amount: '90', currency: 'CHF' } });
      const later = await listed({ bio: t, price: { amount: '150.50', currency: 'CHF' } });
      const never = await listed({ bio: t, price: { amount: '80', currency: 'CHF' } });
      await publishEvent('appointment.availability_changed', soon, { professionalId: soon, nextAvailableAt: '2030-01-01T09:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 });
      await publishEvent('appointment.availability_changed', later, { professionalId: later, nextAvailableAt: '2030-01-03T09:00:00+01:00', laterAvailableAt: [], minimumNoticeMinutes: 0 });

      expect(await ids({ query: t, availableBefore: '2030-01-02T00:00:00Z' })).toEqual([soon]);
      expect(await ids({ query: t, availableBefore: '2030-01-03T08:00:00Z' })).toEqual([soon, later]); // bound included
      expect(await ids({ query: t, maxPrice: '100' })).toEqual([soon, never]);
      expect(await ids({ query: t, maxPrice: '150.50' })).toEqual([soon, later, never]);
      expect(await ids({ query: t, maxPrice: '150.49' })).toEqual([soon, never]);
      expect(await ids({ query: t, maxPrice: '100', availableBefore: '2031-01-01T00:00:00Z' })).toEqual([soon]);

      await expect(client.searchProfessionals({ availableBefore: 'tomorrow' })).rejects.toMatchObject({ code: 'INVALID_AVAILABLE_BEFORE' });
      await expect(client.searchProfessionals({ availableBefore: '2030-01-02T00:00:00' })).rejects.toMatchObject({ code: 'INVALID_AVAILABLE_BEFORE' });
      await expect(client.searchProfessionals({ maxPrice: '1.234' })).rejects.toMatchObject({ code: 'INVALID_MAX_PRICE' });
    });

    it('pages with an opaque cursor, without duplicates or gaps, in both orders', async () => {
      const t = token();
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push(await listed({ bio: t, latitude: 47 + i * 0.01, longitude: 8.5 }));
      // Two share a slot (ties broken by id), two have one, three have none (last).
      const slots = ['2030-02-01T10:00:00.000Z', '2030-02-01T10:00:00.000Z', '2030-01-15T08:00:00.000Z', '2030-03-01T08:00:00.000Z'];
      for (const [i, at] of slots.entries()) await publishEvent('appointment.availability_changed', made[i]!, { professionalId: made[i]!, nextAvailableAt: at, laterAvailableAt: [], minimumNoticeMinutes: 0 });

      const pages: string[][] = [];
      let cursor = '';
      do {
        const res = await client.searchProfessionals({ query: t, limit: 3, cursor });
        pages.push(res.items.map((p) => p.id));
        cursor = res.nextCursor;
      } while (cursor);
      expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
      const byId = (a: string, b: string) => (a < b ? -1 : 1);
      const expected = [made[2]!, ...[made[0]!, made[1]!].sort(byId), made[3]!, ...made.slice(4).sort(byId)];
      expect(pages.flat()).toEqual(expected);

      const byPlace = await searchAll({ query: t, latitude: 47, longitude: 8.5, limit: 2 });
      expect(byPlace.map((p) => p.id)).toEqual(made);
      const distances = byPlace.map((p) => p.distanceKm!);
      expect([...distances].sort((a, b) => a - b)).toEqual(distances);

      // Default and maximum page sizes.
      expect((await client.searchProfessionals({ query: t })).items).toHaveLength(7);
      await expect(client.searchProfessionals({ limit: 51 })).rejects.toMatchObject({ code: 'INVALID_LIMIT' });
      await expect(client.searchProfessionals({ limit: -1 })).rejects.toMatchObject({ code: 'INVALID_LIMIT' });

      // A bad cursor, or a cursor of the other order, is refused.
      const placeCursor = (await client.searchProfessionals({ query: t, latitude: 47, longitude: 8.5, limit: 2 })).nextCursor;
      for (const bad of ['garbage', 'eyJ2IjoxfQ', Buffer.from('{"v":1,"t":"x","i":"y"}').toString('base64url'), placeCursor]) {
        await expect(client.searchProfessionals({ query: t, cursor: bad })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_CURSOR' });
      }
    });
  });

  describe('events', () => {
    it('availability changes set the earliest slot and the order; older events and unknown professionals are ignored', async () => {
      const t = token();
      const a = await listed({ bio: t });
      const b = await listed({ bio: t });
      const t0 = new Date();
      await publishEvent('appointment.availability_changed', a, { professionalId: a, nextAvailableAt: '2030-05-01T08:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 }, t0);
      await publishEvent('appointment.availability_changed', b, { professionalId: b, nextAvailableAt: '2030-05-02T08:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 }, t0);
      expect(await ids({ query: t })).toEqual([a, b]);
      expect((await client.getProfile({ professionalId: a })).profile!.nextAvailableAt).toBe('2030-05-01T08:00:00.000Z');

      // a's slot was booked: its next one is later than b's.
      await publishEvent('appointment.availability_changed', a, { professionalId: a, nextAvailableAt: '2030-05-03T08:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 }, new Date(t0.getTime() + 1000));
      expect(await ids({ query: t })).toEqual([b, a]);
      expect((await client.getProfile({ professionalId: a })).profile!.nextAvailableAt).toBe('2030-05-03T08:00:00.000Z');

      // A late redelivery of an older event does not roll it back.
      await publishEvent('appointment.availability_changed', a, { professionalId: a, nextAvailableAt: '2030-04-01T08:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 }, new Date(t0.getTime() - 1000));
      expect((await client.getProfile({ professionalId: a })).profile!.nextAvailableAt).toBe('2030-05-03T08:00:00.000Z');

      // Nothing free any more: last, with no date.
      await publishEvent('appointment.availability_changed', b, { professionalId: b, nextAvailableAt: '', laterAvailableAt: [], minimumNoticeMinutes: 0 }, new Date(t0.getTime() + 2000));
      expect(await ids({ query: t })).toEqual([a, b]);
      expect((await client.getProfile({ professionalId: b })).profile!.nextAvailableAt).toBe('');

      const stranger = randomUUID();
      await publishEvent('appointment.availability_changed', stranger, { professionalId: stranger, nextAvailableAt: '2030-05-01T08:00:00.000Z', laterAvailableAt: [], minimumNoticeMinutes: 0 });
      expect((await sql(`SELECT 1 FROM $schema.professionals WHERE id = $1`, stranger)).rowCount).toBe(0);
    });

    it('as time passes, the earliest slot moves on to the next one the event listed, and the cached profile follows', async () => {
      const t = token();
      const a = await listed({ bio: t });
      const b = await listed({ bio: t });
      const c = await listed({ bio: t });
      const d = await listed({ bio: t });
      const base = Math.floor(Date.now() / 60_000) * 60_000;
      const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
      // a: a slot 30 minutes ahead with an hour's notice, so no longer bookable; the next two are.
      await publishEvent('appointment.availability_changed', a, { professionalId: a, nextAvailableAt: at(30), laterAvailableAt: [at(120), at(180)], minimumNoticeMinutes: 60 });
      // b: still bookable for a long while. c: everything listed has passed. d: an event with no later slots.
      await publishEvent('appointment.availability_changed', b, { professionalId: b, nextAvailableAt: at(100), laterAvailableAt: [at(200)], minimumNoticeMinutes: 60 });
      await publishEvent('appointment.availability_changed', c, { professionalId: c, nextAvailableAt: at(10), laterAvailableAt: [at(20)], minimumNoticeMinutes: 60 });
      await publishEvent('appointment.availability_changed', d, { professionalId: d, nextAvailableAt: at(5), laterAvailableAt: [], minimumNoticeMinutes: 60 });
      const next = async (id: string) => (await client.getProfile({ professionalId: id })).profile!.nextAvailableAt;
      await next(a); // cached now: moving on must forget it

      await eventually(async () => (await next(a)) === at(120));
      expect(await ids({ query: t })).toEqual([d, c, b, a]); // c kept its last listed slot; d was not moved
      const row = async (id: string) =>
        (await sql(`SELECT later_available_at::text[] AS later, availability_moves_at FROM $schema.professionals WHERE id = $1`, id)).rows[0] as { later: string[]; availability_moves_at: Date | null };
      // a moves on again when its new earliest (two hours ahead) can no longer be booked.
      expect((await row(a)).later).toHaveLength(1);
      expect((await row(a)).availability_moves_at?.toISOString()).toBe(at(60));
      expect(await next(b)).toBe(at(100));
      expect((await row(b)).availability_moves_at?.toISOString()).toBe(at(40));
      expect(await next(c)).toBe(at(20));
      expect(await row(c)).toEqual({ later: [], availability_moves_at: null });
      expect(await next(d)).toBe(at(5));
      expect(await row(d)).toEqual({ later: [], availability_moves_at: null });

      // A newer event replaces the list.
      await publishEvent('appointment.availability_changed', a, { professionalId: a, nextAvailableAt: at(300), laterAvailableAt: [], minimumNoticeMinutes: 60 }, new Date(Date.now() + 1000));
      expect(await next(a)).toBe(at(300));
      expect(await row(a)).toEqual({ later: [], availability_moves_at: null });
      // Later slots out of order are sorted; any not after the earliest is dropped.
      await publishEvent('appointment.availability_changed', b, { professionalId: b, nextAvailableAt: at(100), laterAvailableAt: [at(400), at(90), at(250)], minimumNoticeMinutes: 60 }, new Date(Date.now() + 2000));
      expect((await row(b)).later.map((x) => new Date(x).toISOString())).toEqual([at(250), at(400)]);
      // An absurd notice is read as the longest a schedule allows (a week), not as a failed event.
      await publishEvent('appointment.availability_changed', b, { professionalId: b, nextAvailableAt: at(100), laterAvailableAt: [at(200)], minimumNoticeMinutes: 2 ** 31 - 1 }, new Date(Date.now() + 3000));
      expect((await sql(`SELECT minimum_notice_minutes FROM $schema.professionals WHERE id = $1`, b)).rows[0]).toEqual({ minimum_notice_minutes: 7 * 24 * 60 });
    });

    it('erasure removes the profile from the directory and the cache', async () => {
      const t = token();
      const id = await listed({ bio: t });
      expect((await client.getProfile({ professionalId: id })).profile!.id).toBe(id); // now cached
      await publishEvent('identity.user_erased', id, { userId: id });
      await expect(client.getProfile({ professionalId: id, includeUnverified: true })).rejects.toMatchObject({ code: 'PROFESSIONAL_NOT_FOUND' });
      expect(await ids({ query: t })).toEqual([]);
      expect((await sql(`SELECT 1 FROM $schema.professionals WHERE id = $1`, id)).rowCount).toBe(0);
    });
  });

  describe('cache', () => {
    it('serves profiles from the cache, and never a stale one after an upsert or a verification', async () => {
      const p = profile({ city: 'Zürich' });
      await client.upsertProfile({ profile: p });
      expect((await client.getProfile({ professionalId: p.id!, includeUnverified: true })).profile!.city).toBe('Zürich');
      // Behind the service's back: the cached copy is what it serves.
      await sql(`UPDATE $schema.professionals SET city = 'Behind-the-back' WHERE id = $1`, p.id);
      expect((await client.getProfile({ professionalId: p.id!, includeUnverified: true })).profile!.city).toBe('Zürich');

      await client.upsertProfile({ profile: { ...p, city: 'Winterthur' } });
      expect((await client.getProfile({ professionalId: p.id!, includeUnverified: true })).profile!.city).toBe('Winterthur');

      // Cached while unverified; verification must show through.
      await client.verifyProfessional({ professionalId: p.id! });
      expect((await client.getProfile({ professionalId: p.id! })).profile).toMatchObject({ verified: true, city: 'Winterthur' });
    });

    it('serves a repeated search from the cache; a saved, verified or erased profile shows at once, the earliest free slot within the TTL', async () => {
      const cachedBus = new InProcessBus();
      const cached = await main(
        { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test', SEARCH_CACHE_SECONDS: '30' },
        { bus: cachedBus, cache: new MemoryCache() },
      );
      const cachedClient: Client = createGrpcClient(search, 'SearchService', `127.0.0.1:${cached.grpcPort}`, { deadlineMs: 5_000 });
      const list = async (query: string) => (await cachedClient.searchProfessionals({ query })).items.map((i) => `${i.city}|${i.nextAvailableAt}`);
      const listedThere = async (overrides: DeepPartial<search.Profile>) => {
        const { profile: saved } = await cachedClient.upsertProfile({ profile: profile(overrides) });
        await cachedClient.verifyProfessional({ professionalId: saved!.id });
        return saved!;
      };
      try {
        const t = token();
        const first = await listedThere({ bio: t, city: 'Zürich' });
        expect(await list(t)).toEqual(['Zürich|']);

        // Behind the service's back, as an availability event would: the cached page is what it serves.
        await sql(`UPDATE $schema.professionals SET next_available_at = '2030-05-01T08:00:00Z', city = 'Behind-the-back' WHERE id = $1`, first.id);
        expect(await list(t)).toEqual(['Zürich|']);
        // Other criteria are another page.
        expect((await cachedClient.searchProfessionals({ query: t, country: 'CH' })).items.map((i) => i.city)).toEqual(['Behind-the-back']);

        // A new listed profile shows at once (and with it what changed behind the back).
        const second = await listedThere({ bio: t, city: 'Basel', ...BASEL });
        expect(await list(t)).toEqual(['Behind-the-back|2030-05-01T08:00:00.000Z', 'Basel|']);

        // So does an edit.
        await cachedClient.upsertProfile({ profile: { ...profile({ bio: t, city: 'Bern', ...BERN }), id: second.id } });
        expect(await list(t)).toEqual(['Behind-the-back|2030-05-01T08:00:00.000Z', 'Bern|']);

        // And an erasure: the person is gone from every cached page.
        await publishEvent('identity.user_erased', first.id, { userId: first.id }, undefined, cachedBus);
        expect(await list(t)).toEqual(['Bern|']);
      } finally {
        cachedClient.close();
        await cached.stop();
      }
    });

    it('reads a search through when the cache cannot tell the generation (never a page of an older one)', async () => {
      // A cache that answers every key but the generation marker, as a flapping Redis may.
      let generationUnreadable = false;
      class FlappingCache extends MemoryCache {
        override async get<T>(key: string): Promise<T | undefined> {
          if (generationUnreadable && key.endsWith('search:generation')) throw new Error('connection reset');
          return super.get<T>(key);
        }
      }
      const cached = await main(
        { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test', SEARCH_CACHE_SECONDS: '30' },
        { bus: new InProcessBus(), cache: new FlappingCache() },
      );
      const cachedClient: Client = createGrpcClient(search, 'SearchService', `127.0.0.1:${cached.grpcPort}`, { deadlineMs: 5_000 });
      const cities = async (query: string) => (await cachedClient.searchProfessionals({ query })).items.map((i) => i.city);
      try {
        const t = token();
        // Cached before any generation exists: an empty page.
        expect(await cities(t)).toEqual([]);
        const { profile: saved } = await cachedClient.upsertProfile({ profile: profile({ bio: t, city: 'Lugano', ...LUGANO }) });
        await cachedClient.verifyProfessional({ professionalId: saved!.id });
        expect(await cities(t)).toEqual(['Lugano']);
        generationUnreadable = true;
        expect(await cities(t)).toEqual(['Lugano']);
        generationUnreadable = false;
        expect(await cities(t)).toEqual(['Lugano']);
      } finally {
        cachedClient.close();
        await cached.stop();
      }
    });

    it('caches the reference lists', async () => {
      const { specialties } = await client.listSpecialties({});
      expect(specialties).toEqual(expect.arrayContaining([{ code: 'cardiology', name: 'Cardiology' }, { code: 'general-practice', name: 'General practice' }]));
      const { countries } = await client.listCountries({});
      expect(countries.map((c) => `${c.code}:${c.currency}`).sort()).toEqual(['AT:EUR', 'BE:EUR', 'CH:CHF', 'DE:EUR', 'FR:EUR', 'IT:EUR', 'LU:EUR']);
      await sql(`UPDATE $schema.countries SET name = 'Helvetia' WHERE code = 'CH'`);
      try {
        expect((await client.listCountries({})).countries.find((c) => c.code === 'CH')!.name).toBe('Switzerland');
      } finally {
        await sql(`UPDATE $schema.countries SET name = 'Switzerland' WHERE code = 'CH'`);
      }
    });

    it('checks searches against reference lists kept in the process, not read from the cache for each search', async () => {
      const read = jest.spyOn(memory, 'get');
      try {
        await client.searchProfessionals({ specialty: 'cardiology', limit: 5 }); // may load them, once
        read.mockClear();
        for (let i = 0; i < 3; i++) await client.searchProfessionals({ specialty: 'cardiology', country: 'CH', limit: 5 });
        expect(read.mock.calls.map(([key]) => key).filter((key) => /specialties|countries/.test(key))).toEqual([]);
        // and what they check still holds: an unknown specialty is refused
        await expect(client.searchProfessionals({ specialty: 'astrology', limit: 5 })).rejects.toMatchObject({ code: 'UNKNOWN_SPECIALTY' });
      } finally {
        read.mockRestore();
      }
    });
  });

  it('uses Redis when REDIS_URL is set', async () => {
    const redisUrl = infraUrls().redisUrl;
    const other = await main(
      { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, REDIS_URL: redisUrl, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: 'silent', NODE_ENV: 'test' },
      { bus: new InProcessBus() },
    );
    const redis = new RedisCache(redisUrl, 'search');
    const otherClient: Client = createGrpcClient(search, 'SearchService', `127.0.0.1:${other.grpcPort}`, { deadlineMs: 5_000 });
    try {
      const p = profile();
      await otherClient.upsertProfile({ profile: p });
      await otherClient.getProfile({ professionalId: p.id!, includeUnverified: true });
      expect(await redis.get(`profile:v2:${p.id}`)).toMatchObject({ id: p.id, city: 'Zürich' });
      await otherClient.upsertProfile({ profile: { ...p, city: 'Basel' } });
      expect(await redis.get(`profile:v2:${p.id}`)).toBeUndefined();
      expect((await otherClient.getProfile({ professionalId: p.id!, includeUnverified: true })).profile!.city).toBe('Basel');
    } finally {
      otherClient.close();
      await other.stop();
      await redis.close();
    }
  });
});
