import { randomBytes } from 'node:crypto';
import pg from 'pg';
import Redis from 'ioredis';
import { ApiClient, demoSchedule, eventually, freePort, infraUrls, scanColumns, scanTopics, startPlatform, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * Data region (docs/compliance/data-region.md) end to end: two deployments side by side, CH and
 * EU, each its own processes, PostgreSQL schemas, Kafka namespace and Redis database, as two
 * clusters each with their own data stores. People of both regions sign up, book and pay in their
 * own region; the other region's deployment answers them 421 WRONG_REGION with where to go.
 * Afterwards no column of any table of the EU deployment, no message of its Kafka topics and no key
 * or value of its Redis holds anything of the CH people, and the reverse.
 */

type Region = 'CH' | 'EU';

interface Person {
  id: string;
  email: string;
  displayName: string;
  refreshToken: string;
  accessToken: string;
  api: ApiClient;
}

interface Deployment {
  region: Region;
  platform: RunningPlatform;
  api: ApiClient;
  /** Run-unique, in every name, email, city and bio its people write. Lower-case hex. */
  marker: string;
  patient?: Person;
  professional?: Person;
  bookingId?: string;
  /** An address refused here (sign-up for another region): it must not be anywhere in this deployment. */
  refusedEmail?: string;
}

const ADMIN = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

const profiles: Record<Region, object> = {
  CH: { specialties: ['general-practice'], languages: ['de', 'en'], country: 'CH', city: 'Zurich', latitude: 47.3769, longitude: 8.5417, price: { amount: '120.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' },
  EU: { specialties: ['general-practice'], languages: ['fr', 'en'], country: 'FR', city: 'Lyon', latitude: 45.764, longitude: 4.8357, price: { amount: '60.00', currency: 'EUR' }, timeZone: 'Europe/Paris' },
};

/** Every Redis key of one database, with its value(s) as bytes, searched for each needle. */
async function scanRedis(url: string, needles: string[]): Promise<{ keys: number; hits: Array<{ key: string; needle: string }> }> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    const hits: Array<{ key: string; needle: string }> = [];
    let keys = 0;
    let cursor = '0';
    do {
      const [next, batch] = await redis.scanBuffer(cursor, 'COUNT', 500);
      cursor = next.toString();
      for (const key of batch) {
        keys++;
        const type = await redis.type(key);
        const values: Buffer[] =
          type === 'string'
            ? [(await redis.getBuffer(key)) ?? Buffer.alloc(0)]
            : type === 'hash'
              ? await redis.hgetallBuffer(key).then((h) => Object.entries(h).flatMap(([f, v]) => [Buffer.from(f), v]))
              : type === 'list'
                ? await redis.lrangeBuffer(key, 0, -1)
                : type === 'set'
                  ? await redis.smembersBuffer(key)
                  : type === 'zset'
                    ? await redis.zrangeBuffer(key, '0', '-1')
                    : [];
        for (const needle of needles) {
          const bytes = Buffer.from(needle);
          if ([key, ...values].some((b) => b.includes(bytes))) hits.push({ key: key.toString(), needle });
        }
      }
    } while (cursor !== '0');
    return { keys, hits };
  } finally {
    redis.disconnect();
  }
}

/** Tokens look like JWTs; this one claims `region` without any valid signature. */
function forgedToken(region: Region): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'ES256', kid: 'forged', typ: 'JWT' })}.${part({ sub: '00000000-0000-4000-8000-000000000001', role: 'admin', region, exp: 4_000_000_000 })}.${randomBytes(64).toString('base64url')}`;
}

describe('data region: a CH deployment and an EU deployment side by side (real PostgreSQL, Redis, Kafka; separate processes)', () => {
  const deployments = {} as Record<Region, Deployment>;
  const urls = {} as Record<Region, string>;
  let db: pg.Pool;

  beforeAll(async () => {
    const ports = { CH: await freePort(), EU: await freePort() };
    for (const r of ['CH', 'EU'] as const) urls[r] = `http://127.0.0.1:${ports[r]}`;
    const baseUrls = `CH=${urls.CH},EU=${urls.EU}`;
    // One after the other: twelve processes starting at once on a small machine would time out.
    // Redis databases of their own (14 and 15), as each region's cluster has its own Redis.
    for (const [region, redisDatabase] of [['CH', 14], ['EU', 15]] as const) {
      const platform = await startPlatform({ region, gatewayPort: ports[region], redisDatabase, extraEnv: { gateway: { REGION_BASE_URLS: baseUrls } } });
      deployments[region] = { region, platform, api: new ApiClient(platform.gatewayUrl), marker: `mk${region.toLowerCase()}${randomBytes(5).toString('hex')}` };
    }
    db = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 3 });
  }, 300_000);

  afterAll(async () => {
    await db?.end();
    await Promise.all(Object.values(deployments).map((d) => d.platform.stop()));
  });

  async function register(d: Deployment, role: 'patient' | 'professional', name: string, region?: Region): Promise<Person> {
    const email = `${name.toLowerCase()}-${d.marker}@example.${d.region === 'CH' ? 'ch' : 'fr'}`;
    const displayName = `${name} ${d.marker}`;
    const session = await d.api.expect(201, 'POST', '/v1/auth/register', { email, password: 'a-long-password-1', role, displayName, consents: currentConsents(), ...(region ? { region } : {}) });
    expect(session.user.region).toBe(d.region);
    return { id: session.user.id, email, displayName, refreshToken: session.refreshToken, accessToken: session.accessToken, api: d.api.as(session.accessToken) };
  }

  /** A patient and a verified professional of the region; the patient books and pays, the meeting is made. */
  async function populate(d: Deployment) {
    // One says its region, the other lets the deployment's apply.
    d.patient = await register(d, 'patient', 'Patient', d.region);
    d.professional = await register(d, 'professional', 'Doctor');
    await d.professional.api.expect(200, 'PUT', '/v1/professionals/me', { ...profiles[d.region], city: `City ${d.marker}`, consultationMinutes: 30, bio: `I am ${d.marker}.` });
    await d.professional.api.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    const admin = d.api.as((await d.api.expect(200, 'POST', '/v1/auth/login', ADMIN)).accessToken);
    await admin.expect(200, 'POST', `/v1/admin/professionals/${d.professional.id}/verify`);
    const { items: slots } = await d.patient.api.expect(200, 'GET', `/v1/professionals/${d.professional.id}/slots`);
    const booked = await d.patient.api.expect(201, 'POST', '/v1/appointments', { professionalId: d.professional.id, start: slots[0].start }, { 'idempotency-key': `key-${d.marker}` });
    expect((await fetch(`${booked.invoice.checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await eventually(async () => {
      const { appointment } = await d.patient!.api.expect(200, 'GET', `/v1/appointments/${booked.appointment.id}`);
      return appointment.status === 'confirmed' && appointment.meeting ? appointment : undefined;
    }, 45_000);
    d.bookingId = booked.appointment.id;
  }

  /** Everything of a deployment's people: ids, emails, names (and through the marker, cities, bios, keys). */
  const needlesOf = (d: Deployment) => [d.marker, d.patient!.id, d.professional!.id, d.bookingId!, d.patient!.email, d.professional!.email, d.refusedEmail!];

  it("serves each region's people in their region only, and keeps each region's data in its own deployment", async () => {
    const { CH: ch, EU: eu } = deployments;
    await populate(ch);
    await populate(eu);

    // Signing up here for the other region: 421 WRONG_REGION, naming it and where it is; nothing is written.
    for (const [here, there] of [[ch, eu], [eu, ch]] as const) {
      here.refusedEmail = `elsewhere-${there.marker}@example.com`;
      const refused = await here.api.call('POST', '/v1/auth/register', { email: here.refusedEmail, password: 'a-long-password-1', role: 'patient', displayName: `Elsewhere ${there.marker}`, region: there.region });
      expect({ status: refused.status, body: refused.body }).toEqual({
        status: 421,
        body: { error: { code: 'WRONG_REGION', message: expect.stringContaining(there.region), details: { region: there.region, baseUrl: urls[there.region] } } },
      });
    }

    // Another region's token, on any authenticated route: 421 with where to go, whatever the route.
    for (const [here, there] of [[ch, eu], [eu, ch]] as const) {
      for (const [method, path] of [['GET', '/v1/me'], ['GET', `/v1/appointments/${there.bookingId}`], ['GET', '/v1/me/export']] as const) {
        const answer = await here.api.as(there.patient!.accessToken).call(method, path);
        expect({ method, path, status: answer.status, body: answer.body }).toEqual({ method, path, status: 421, body: { error: expect.objectContaining({ code: 'WRONG_REGION', details: { region: there.region, baseUrl: urls[there.region] } }) } });
      }
      // The booking route refuses before anything is booked.
      const book = await here.api.as(there.patient!.accessToken).call('POST', '/v1/appointments', { professionalId: there.professional!.id, start: new Date(Date.now() + 7 * 86_400_000).toISOString() });
      expect(book.status).toBe(421);
      // Sign-in and refresh know nobody of the other region: plain refusals, no directory of who lives where.
      const login = await here.api.call('POST', '/v1/auth/login', { email: there.patient!.email, password: 'a-long-password-1' });
      expect({ status: login.status, code: login.body.error.code }).toEqual({ status: 401, code: 'INVALID_CREDENTIALS' });
      const refresh = await here.api.call('POST', '/v1/auth/refresh', { refreshToken: there.patient!.refreshToken });
      expect({ status: refresh.status, code: refresh.body.error.code }).toEqual({ status: 401, code: 'INVALID_REFRESH_TOKEN' });
      // The other region's professional is not in this region's directory: neither found nor bookable here.
      expect((await here.api.call('GET', `/v1/professionals/${there.professional!.id}`)).status).toBe(404);
      const { items } = await here.api.expect(200, 'GET', '/v1/professionals?specialty=general-practice');
      expect(items.map((p: { id: string }) => p.id)).toEqual([here.professional!.id]);
      const crossBooking = await here.patient!.api.call('POST', '/v1/appointments', { professionalId: there.professional!.id, start: new Date(Date.now() + 7 * 86_400_000).toISOString() });
      expect(crossBooking.status).toBe(404);
      // Each region's own people are served as before.
      expect((await here.patient!.api.expect(200, 'GET', '/v1/me')).user).toMatchObject({ id: here.patient!.id, region: here.region });
    }

    // The unverified claim only names a place: a forged token claiming the other region gets the
    // redirect answer, and the same forgery claiming this region is plainly invalid. Nothing is granted.
    expect((await ch.api.as(forgedToken('EU')).call('GET', '/v1/me')).status).toBe(421);
    const forgedHere = await ch.api.as(forgedToken('CH')).call('GET', '/v1/me');
    expect({ status: forgedHere.status, code: forgedHere.body.error.code }).toEqual({ status: 401, code: 'INVALID_TOKEN' });

    // Wait until every outbox is published, so the Kafka scans see every event there will be.
    await eventually(async () => {
      for (const d of [ch, eu]) {
        for (const schema of Object.values(d.platform.schemas)) if ((await db.query(`SELECT count(*)::int AS n FROM "${schema}".outbox`)).rows[0].n > 0) return false;
      }
      return true;
    }, 30_000, 250);

    for (const [here, there] of [[ch, eu], [eu, ch]] as const) {
      const own = needlesOf(here).filter((n) => n !== here.refusedEmail);
      const foreign = needlesOf(there);
      // PostgreSQL: the scan finds this region's people in every service (so its silence means something) ...
      const ownColumns = new Set((await scanColumns(db, here.platform.schemas, own)).map((h) => h.column));
      expect([...ownColumns]).toEqual(
        expect.arrayContaining([
          'identity.users.id',
          'identity.users.email',
          'identity.users.display_name',
          'search.professionals.id',
          'search.professionals.bio',
          'appointment.appointments.patient_id',
          'appointment.appointments.idempotency_key',
          'payment.invoices.patient_id',
          'video.meetings.appointment_id',
        ]),
      );
      // ... and not one trace of the other region's, nor of the sign-up refused here.
      expect({ region: here.region, hits: await scanColumns(db, here.platform.schemas, foreign) }).toEqual({ region: here.region, hits: [] });
      const refusedHere = await scanColumns(db, here.platform.schemas, [here.refusedEmail!]);
      expect({ region: here.region, refusedSignUp: refusedHere }).toEqual({ region: here.region, refusedSignUp: [] });

      // Kafka: every message of this deployment's topics; its own people are there, the others' not.
      const topics = await scanTopics(infraUrls().kafkaBrokers, here.platform.namespace, [...own, ...foreign, here.refusedEmail!]);
      expect(topics.messagesRead).toBeGreaterThan(0);
      expect(topics.hits.some((h) => own.includes(h.needle))).toBe(true);
      expect({ region: here.region, hits: topics.hits.filter((h) => !own.includes(h.needle)) }).toEqual({ region: here.region, hits: [] });

      // Redis: every key and value of this deployment's database.
      const redis = await scanRedis(here.platform.redisUrl, [...own, ...foreign, here.refusedEmail!]);
      expect(redis.keys).toBeGreaterThan(0);
      expect(redis.hits.some((h) => own.includes(h.needle))).toBe(true);
      expect({ region: here.region, hits: redis.hits.filter((h) => !own.includes(h.needle)) }).toEqual({ region: here.region, hits: [] });
    }
  }, 300_000);
});
