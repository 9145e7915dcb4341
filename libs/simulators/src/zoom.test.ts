import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createZoomSimulator, normalizeStartTime, START_URL_TTL_MS, type ZoomSimulator } from './zoom';

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
  const createMeeting = (accessToken: string, body: unknown = {}, userId = 'me') =>
    fetch(`${base}/v2/users/${encodeURIComponent(userId)}/meetings`, {
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
  describe('fidelity', () => {
    const api = (accessToken: string, method: string, path: string, body?: unknown) =>
      fetch(`${base}/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const newUser = async (t: string, email: string) => {
      const res = await api(t, 'POST', '/users', { action: 'custCreate', user_info: { email, type: 2, first_name: 'Pro', last_name: 'Host' } });
      expect(res.status).toBe(201);
      return ((await res.json()) as { id: string }).id;
    };
    const meetingOn = async (t: string, userId: string) => {
      const res = await createMeeting(t, { topic: 'Consultation', type: 2, start_time: '2030-03-01T09:00:00Z', duration: 30 }, userId);
      expect(res.status).toBe(201);
      return (await res.json()) as { id: number; start_url: string; join_url: string; host_id: string; host_email: string };
    };
    const start = async (startUrl: string) => {
      const res = await fetch(startUrl);
      return { status: res.status, text: await res.text() };
    };

    it('users API: custCreate, duplicates refused, list, read by id or email; meetings only on users that exist', async () => {
      const t = await token();
      const id = await newUser(t, 'pro-1@hosts.cryptocare.test');
      const again = await api(t, 'POST', '/users', { action: 'custCreate', user_info: { email: 'PRO-1@hosts.cryptocare.test', type: 2 } });
      expect(again.status).toBe(409);
      expect(((await again.json()) as { code: number }).code).toBe(1005);
      expect((await api(t, 'POST', '/users', { action: 'steal', user_info: { email: 'x@y.test', type: 2 } })).status).toBe(400);
      expect((await api(t, 'POST', '/users', { action: 'custCreate', user_info: { email: 'not an email\u0000', type: 2 } })).status).toBe(400);
      expect((await api(t, 'POST', '/users', { action: 'custCreate', user_info: { email: 'x@y.test', type: 3 } })).status).toBe(400);

      const list = (await (await api(t, 'GET', '/users?page_size=300')).json()) as { total_records: number; users: Array<{ id: string; email: string }> };
      expect(list.users.map((u) => u.id)).toEqual([sim.owner.id, id]);
      expect(((await (await api(t, 'GET', `/users/${id}`)).json()) as { email: string }).email).toBe('pro-1@hosts.cryptocare.test');
      expect(((await (await api(t, 'GET', '/users/pro-1@hosts.cryptocare.test')).json()) as { id: string }).id).toBe(id);

      const unknown = await createMeeting(t, { topic: 'x' }, 'nobody-here');
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ code: 1001, message: 'User does not exist: nobody-here.' });
      expect(sim.meetings).toHaveLength(0);

      const onPro = await meetingOn(t, id);
      const onOwner = await meetingOn(t, 'me');
      expect(onPro).toMatchObject({ host_id: id, host_email: 'pro-1@hosts.cryptocare.test' });
      expect(onOwner.host_id).toBe(sim.owner.id);
      const proMeetings = (await (await api(t, 'GET', `/users/${id}/meetings`)).json()) as { meetings: Array<{ id: number }> };
      expect(proMeetings.meetings.map((m) => m.id)).toEqual([onPro.id]);

      // Deleting a user takes their meetings; the owner cannot be deleted.
      expect((await api(t, 'DELETE', `/users/${id}?action=delete`)).status).toBe(204);
      expect((await api(t, 'GET', `/users/${id}`)).status).toBe(404);
      expect(sim.deletedMeetingIds).toEqual([onPro.id]);
      expect(sim.meetings.map((m) => m.id)).toEqual([onOwner.id]);
      expect((await api(t, 'DELETE', `/users/${id}?action=delete`)).status).toBe(404);
      expect((await api(t, 'DELETE', '/users/me')).status).toBe(400);
    });

    it('a start_url works for 2 hours after it was issued; GET /v2/meetings/{id} gives a fresh one', async () => {
      const t = await token();
      const meeting = await meetingOn(t, 'me');
      sim.advanceClock(START_URL_TTL_MS + 1_000);
      const stale = await start(meeting.start_url);
      expect(stale.status).toBe(401);
      expect(stale.text).toContain('expired');
      const fresh = ((await (await api(t, 'GET', `/meetings/${meeting.id}`)).json()) as { start_url: string }).start_url;
      expect(fresh).not.toBe(meeting.start_url);
      expect((await start(fresh)).status).toBe(200);
      expect(sim.getMeeting(meeting.id)?.status).toBe('started');
      // A zak of another meeting does not start this one.
      const other = await meetingOn(t, 'me');
      expect((await start(`${base}/s/${other.id}?${new URL(fresh).searchParams.toString()}`)).status).toBe(401);
    });

    it('one live meeting per host: a second start waits until the first ended; other hosts are not affected', async () => {
      const t = await token();
      const pro = await newUser(t, 'pro-2@hosts.cryptocare.test');
      const first = await meetingOn(t, pro);
      const second = await meetingOn(t, pro);
      const elsewhere = await meetingOn(t, 'me');
      expect((await start(first.start_url)).status).toBe(200);
      const refused = await start(second.start_url);
      expect(refused.status).toBe(409);
      expect(refused.text).toContain('currently in progress');
      expect((await start(elsewhere.start_url)).status).toBe(200);
      expect((await fetch(`${base}/_sim/meetings/${first.id}/end`, { method: 'POST' })).status).toBe(204);
      expect(sim.getMeeting(first.id)?.status).toBe('finished');
      expect((await start(second.start_url)).status).toBe(200);
    });

    it('100 creations or updates per host and UTC day, then 429 Daily-limit with Retry-After to midnight UTC (or without it)', async () => {
      const t = await token();
      const pro = await newUser(t, 'pro-3@hosts.cryptocare.test');
      sim.setNow(Date.parse('2030-03-01T23:00:00Z'));
      const first = await meetingOn(t, pro);
      expect((await api(t, 'PATCH', `/meetings/${first.id}`, { duration: 45 })).status).toBe(204); // an update counts
      for (let i = 0; i < 98; i++) expect((await createMeeting(t, { topic: 'x' }, pro)).status).toBe(201);
      expect(sim.usedToday(pro)).toBe(100);

      const limited = await createMeeting(t, { topic: 'x' }, pro);
      expect(limited.status).toBe(429);
      expect(limited.headers.get('x-ratelimit-type')).toBe('Daily-limit');
      // The seconds to midnight UTC, counted on the simulator's clock, which runs on from 23:00: the
      // 100 calls above take over a second on a slow runner (3599 there).
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(retryAfter).toBeGreaterThanOrEqual(Math.floor((Date.parse('2030-03-02T00:00:00Z') - sim.now()) / 1000));
      expect(((await limited.json()) as { code: number }).code).toBe(429);
      expect((await api(t, 'PATCH', `/meetings/${first.id}`, { duration: 50 })).status).toBe(429);
      expect(sim.getMeeting(first.id)?.duration).toBe(45);
      expect((await createMeeting(t, { topic: 'x' }, 'me')).status).toBe(201); // another host has its own quota

      // The control route, as a test over HTTP would use it: no Retry-After on the next refusals.
      expect((await fetch(`${base}/_sim/quota`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ retryAfter: false }) })).status).toBe(200);
      const bare = await createMeeting(t, { topic: 'x' }, pro);
      expect(bare.status).toBe(429);
      expect(bare.headers.get('retry-after')).toBeNull();

      const clock = await fetch(`${base}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ now: '2030-03-02T00:00:01Z' }) });
      expect(await clock.json()).toEqual({ now: expect.stringMatching(/^2030-03-02T00:00:0[12]/) });
      expect((await createMeeting(t, { topic: 'x' }, pro)).status).toBe(201);
      expect(sim.usedToday(pro)).toBe(1);
    });

    it('control routes refuse bad input and keep working during an outage', async () => {
      const post = (path: string, body: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect((await post('/_sim/clock', { now: 'yesterday' })).status).toBe(400);
      expect((await post('/_sim/quota', { dailyLimit: -1 })).status).toBe(400);
      expect((await post('/_sim/quota', { retryAfter: 'no' })).status).toBe(400);
      sim.failFor(60_000, 503);
      expect((await post('/_sim/quota', { dailyLimit: 5 })).status).toBe(200);
      sim.failFor(0);
    });
  });
});

describe('Zoom simulator webhooks', () => {
  const SECRET = 'webhook-secret-token';
  let sim: ZoomSimulator;
  let base: string;
  let endpoint: string;
  let server: Server;
  /** How the endpoint answers the challenge: right, with a wrong token, or 500. */
  let answer: 'right' | 'wrong' | 'error' = 'right';
  const received: Array<{ headers: Record<string, string>; body: string }> = [];

  const signedByZoom = (headers: Record<string, string>, body: string) =>
    headers['x-zm-signature'] === `v0=${createHmac('sha256', SECRET).update(`v0:${headers['x-zm-request-timestamp']}:${body}`).digest('hex')}` &&
    Math.abs(Date.now() / 1000 - Number(headers['x-zm-request-timestamp'])) < 300;
  const events = () => received.map((r) => JSON.parse(r.body) as { event: string; event_ts: number; payload: { account_id: string; object: Record<string, any> } }).filter((e) => e.event !== 'endpoint.url_validation');
  const meetingOn = async () => {
    const tokenRes = await fetch(`${base}/oauth/token?grant_type=account_credentials&account_id=${ACCOUNT}`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}` } });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const res = await fetch(`${base}/v2/users/me/meetings`, { method: 'POST', headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ topic: 'T', type: 2, duration: 30 }) });
    return (await res.json()) as { id: number; uuid: string; host_id: string; start_url: string; join_url: string };
  };

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, webhookSecretToken: SECRET, webhookRetryDelaysMs: [10] });
    base = await sim.listen();
    server = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
        received.push({ headers, body });
        const parsed = JSON.parse(body) as { event: string; payload: { plainToken?: string } };
        if (parsed.event !== 'endpoint.url_validation') return res.writeHead(200).end();
        if (answer === 'error') return res.writeHead(500).end();
        const plainToken = parsed.payload.plainToken!;
        const encryptedToken = createHmac('sha256', answer === 'right' ? SECRET : 'not-the-secret').update(plainToken).digest('hex');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ plainToken, encryptedToken }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/zoom`;
  });
  afterAll(async () => {
    await sim.close();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    answer = 'right';
  });

  it('refuses an endpoint that fails the url_validation challenge, and sends it nothing', async () => {
    answer = 'wrong';
    await expect(sim.subscribeWebhooks(endpoint)).rejects.toThrow(/URL validation failed/);
    answer = 'error';
    const refused = await fetch(`${base}/_sim/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: endpoint }) });
    expect(refused.status).toBe(400);
    expect(sim.webhookUrl).toBeUndefined();
    // The challenge itself was signed as Zoom signs every request.
    expect(received).toHaveLength(2);
    for (const r of received) expect(signedByZoom(r.headers, r.body)).toBe(true);
    const meeting = await meetingOn();
    expect(sim.startMeeting(meeting.id)).toBe(true);
    sim.endMeeting(meeting.id);
    await sim.waitForWebhooks();
    expect(events()).toEqual([]);
  });

  it('after a good challenge, reports start, the host’s and the patient’s joins and the end, signed, with Zoom’s payload shapes', async () => {
    const ok = await fetch(`${base}/_sim/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ url: endpoint }) });
    expect(ok.status).toBe(200);
    expect(sim.webhookUrl).toBe(endpoint);
    const meeting = await meetingOn();

    // The patient waits for the host: no join before the meeting started.
    expect((await fetch(`${base}/_sim/meetings/${meeting.id}/join`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"patient"}' })).status).toBe(409);
    expect(await (await fetch(meeting.join_url)).text()).toContain('waiting-for-host');
    expect((await fetch(meeting.start_url)).status).toBe(200); // the host's link starts it
    expect((await fetch(meeting.join_url)).status).toBe(200); // the patient joins
    expect((await fetch(`${base}/_sim/meetings/${meeting.id}/end`, { method: 'POST' })).status).toBe(204);
    await sim.waitForWebhooks();

    for (const r of received) expect(signedByZoom(r.headers, r.body)).toBe(true);
    const got = events();
    expect(got.map((e) => e.event)).toEqual(['meeting.started', 'meeting.participant_joined', 'meeting.participant_joined', 'meeting.ended']);
    const object = { id: String(meeting.id), uuid: meeting.uuid, host_id: meeting.host_id, topic: 'T', type: 2, duration: 30 };
    for (const e of got) expect(e.payload).toMatchObject({ account_id: ACCOUNT, object });
    expect(got[1]!.payload.object.participant).toMatchObject({ id: meeting.host_id, user_id: expect.any(String), participant_uuid: expect.any(String), join_time: expect.any(String) });
    expect(got[2]!.payload.object.participant).toMatchObject({ id: '', user_name: 'Patient' });
    expect(got[3]!.payload.object.end_time).toEqual(expect.any(String));
  });

  it('control routes: start, join as host or patient, and refuse what Zoom would', async () => {
    await sim.subscribeWebhooks(endpoint);
    const meeting = await meetingOn();
    const post = (path: string, body?: unknown) => fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    expect((await post(`/_sim/meetings/${meeting.id}/join`, { role: 'nurse' })).status).toBe(400);
    expect((await post(`/_sim/meetings/1/start`)).status).toBe(404);
    expect((await post(`/_sim/meetings/${meeting.id}/start`)).status).toBe(204);
    expect((await post(`/_sim/meetings/${meeting.id}/join`, { role: 'patient' })).status).toBe(204);
    const other = await meetingOn(); // the same host, another meeting while one is live
    expect((await post(`/_sim/meetings/${other.id}/join`, { role: 'host' })).status).toBe(409);
    expect((await post(`/_sim/webhooks`, { url: 'ftp://x' })).status).toBe(400);
    await sim.waitForWebhooks();
    expect(events().map((e) => e.event)).toEqual(['meeting.started', 'meeting.participant_joined', 'meeting.participant_joined']);
  });
});
