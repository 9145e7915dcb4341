import { createZoomSimulator, normalizeStartTime, type ZoomSimulator } from './zoom';

const ACCOUNT = 'acc-123';
const CLIENT_ID = 'client-abc';
const CLIENT_SECRET = 'secret-xyz';

describe('Zoom simulator', () => {
  let sim: ZoomSimulator;
  let base: string;

  const basic = (id = CLIENT_ID, secret = CLIENT_SECRET) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
  const token = async (): Promise<string> => {
    const res = await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, {
      method: 'POST',
      headers: { authorization: basic() },
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  };
  const createMeeting = (accessToken: string, body: unknown = {}) =>
    fetch(`${base}/v2/users/me/meetings`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    base = await sim.listen();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('issues S2S OAuth tokens (query or form parameters) and rejects bad credentials', async () => {
    const res = await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, {
      method: 'POST',
      headers: { authorization: basic() },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 3600, api_url: base });
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.scope).toBe('string');

    const form = await fetch(`${base}/oauth/token`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: `grant_type=account_credentials&account_id=${ACCOUNT}`,
    });
    expect(form.status).toBe(200);

    const bad = await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, {
      method: 'POST',
      headers: { authorization: basic(CLIENT_ID, 'wrong') },
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ reason: 'Invalid client_id or client_secret', error: 'invalid_client' });

    const badAccount = await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=other`, {
      method: 'POST',
      headers: { authorization: basic() },
    });
    expect(badAccount.status).toBe(400);
    const badGrant = await fetch(`${base}/oauth/token?grant_type=client_credentials`, { method: 'POST', headers: { authorization: basic() } });
    expect(((await badGrant.json()) as { error: string }).error).toBe('unsupported_grant_type');

    expect(sim.tokenRequests).toBe(5);
    expect(sim.tokensIssued).toBe(2);
  });

  it('creates, reads and deletes a meeting with Zoom shapes', async () => {
    const t = await token();
    const res = await createMeeting(t, {
      topic: 'Teleconsultation',
      type: 2,
      start_time: '2030-03-01T09:00:00Z',
      duration: 30,
      timezone: 'Europe/Zurich',
      settings: { waiting_room: true, join_before_host: false },
    });
    expect(res.status).toBe(201);
    const m = (await res.json()) as Record<string, any>;
    expect(typeof m.id).toBe('number');
    expect(String(m.id)).toMatch(/^\d{11}$/);
    expect(m).toMatchObject({
      topic: 'Teleconsultation',
      type: 2,
      status: 'waiting',
      start_time: '2030-03-01T09:00:00Z',
      duration: 30,
      timezone: 'Europe/Zurich',
      settings: { waiting_room: true, join_before_host: false },
    });
    for (const key of ['uuid', 'host_id', 'join_url', 'start_url', 'password', 'created_at', 'encrypted_password']) {
      expect(typeof m[key]).toBe('string');
    }
    expect(m.join_url).toMatch(new RegExp(`^${base}/j/${m.id}\\?pwd=`));
    expect(m.start_url).toMatch(new RegExp(`^${base}/s/${m.id}\\?zak=`));
    expect(m.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(sim.meetings).toHaveLength(1);

    const got = await fetch(`${base}/v2/meetings/${m.id}`, { headers: { authorization: `Bearer ${t}` } });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { join_url: string }).join_url).toBe(m.join_url);

    const join = await fetch(m.join_url, { headers: { accept: 'text/html' } });
    expect(await join.text()).toContain('Teleconsultation');

    const del = await fetch(`${base}/v2/meetings/${m.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${t}` } });
    expect(del.status).toBe(204);
    expect(sim.deletedMeetingIds).toEqual([m.id]);
    const gone = await fetch(`${base}/v2/meetings/${m.id}`, { headers: { authorization: `Bearer ${t}` } });
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ code: 3001, message: `Meeting does not exist: ${m.id}.` });
  });

  it('answers 401 code 124 to tokens it did not issue, or expired ones', async () => {
    const res = await createMeeting('not-a-token');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ code: 124, message: 'Invalid access token.' });
    expect((await fetch(`${base}/v2/meetings/1`)).status).toBe(401);

    const t = await token();
    sim.expireTokens();
    const expired = await createMeeting(t);
    expect(expired.status).toBe(401);
    expect(await expired.json()).toEqual({ code: 124, message: 'Access token is expired.' });
  });

  it('injects 429 with Retry-After, then 503, then recovers', async () => {
    const t = await token();
    sim.failNext(1, 429, 2);
    const limited = await createMeeting(t, { topic: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(((await limited.json()) as { code: number }).code).toBe(429);

    sim.failNext(1, 503);
    const unavailable = await createMeeting(t, { topic: 'x' });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBeNull();

    expect((await createMeeting(t, { topic: 'x' })).status).toBe(201);
    expect(sim.meetings).toHaveLength(1);
    expect(sim.apiRequests).toBe(3);

    sim.failNextTokens(1);
    expect((await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, { method: 'POST', headers: { authorization: basic() } })).status).toBe(503);
  });

  it('validates meeting bodies', async () => {
    const t = await token();
    expect((await createMeeting(t, { type: 7 })).status).toBe(400);
    expect((await createMeeting(t, { start_time: 'tomorrow' })).status).toBe(400);
  });

  it('reads local start times in the meeting time zone', () => {
    expect(normalizeStartTime('2030-03-01T09:00:00', 'Europe/Zurich')).toBe('2030-03-01T08:00:00Z');
    expect(normalizeStartTime('2030-07-01T09:00:00', 'Europe/Zurich')).toBe('2030-07-01T07:00:00Z');
    expect(normalizeStartTime('2030-07-01T09:00:00+02:00', 'UTC')).toBe('2030-07-01T07:00:00Z');
    expect(normalizeStartTime('2030-07-01T09:00:00', undefined)).toBe('2030-07-01T09:00:00Z');
  });

  it('fault switch: an outage answers every API call (token included) with its 5xx until it ends', async () => {
    const accessToken = await token();
    sim.failFor(60_000, 500);
    expect((await createMeeting(accessToken, { topic: 'x' })).status).toBe(500);
    expect((await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, { method: 'POST', headers: { authorization: basic() } })).status).toBe(500);
    expect(sim.meetings).toHaveLength(0);
    sim.failFor(0);
    expect((await createMeeting(accessToken, { topic: 'x' })).status).toBe(201);
  });
});
