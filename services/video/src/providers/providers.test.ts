import { MemoryCache } from '@cryptocare/cache';
import { createLogger, registry } from '@cryptocare/platform';
import { createZoomSimulator, type ZoomSimulator } from '@cryptocare/simulators';
import { base32, JitsiMeetingProvider } from './jitsi';
import { ResilientMeetingProvider } from './resilient';
import { ZOOM_API_BASE_URL, ZOOM_TOKEN_KEY, ZOOM_TOKEN_URL, zoomEndpoints, ZoomMeetingProvider, type ZoomPolicy } from './zoom';

const ACCOUNT = 'acc-video';
const CLIENT_ID = 'client-video';
const CLIENT_SECRET = 'secret-video';
const logger = createLogger('video-test', 'silent');
/** Short waits so the suite stays fast; Retry-After values are still honoured in full. */
const FAST: Partial<ZoomPolicy> = { timeoutMs: 1_000, retries: 2, initialDelayMs: 10, maxDelayMs: 2_000, breakAfter: 3, halfOpenAfterMs: 60_000 };
const request = { topic: 'CryptoCare consultation', startAt: new Date('2030-03-01T09:00:00Z'), durationMinutes: 30, timeZone: 'UTC' };

async function fallbacks(reason: string): Promise<number> {
  const metric = registry.getSingleMetric('meeting_provider_fallback_total');
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => v.labels.reason === reason).reduce((sum, v) => sum + v.value, 0);
}

describe('Zoom provider (against the Zoom simulator)', () => {
  let sim: ZoomSimulator;
  let base: string;
  // The simulator's URLs in the documented form: API base with /v2, the full token endpoint.
  const zoom = (cache = new MemoryCache(), policy: Partial<ZoomPolicy> = {}) =>
    new ZoomMeetingProvider({ apiUrl: `${base}/v2`, oauthUrl: `${base}/oauth/token`, accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, cache, logger, policy: { ...FAST, ...policy } });

  beforeAll(async () => {
    sim = createZoomSimulator({ accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    base = await sim.listen();
  });
  afterAll(async () => {
    // An aborted request (the timeout test) leaves undici with a spare connection that never sends
    // a request; the simulator's close() would wait for the server's 60 s headers timeout.
    sim.app.server.closeAllConnections();
    await sim.close();
  });
  beforeEach(() => sim.reset());
  afterEach(() => jest.restoreAllMocks());

  it('schedules a meeting with a neutral topic, a waiting room and no joining before the host, and deletes it', async () => {
    const provider = zoom();
    const created = await provider.createMeeting(request);
    expect(sim.meetings).toHaveLength(1);
    const meeting = sim.meetings[0]!;
    expect(meeting).toMatchObject({ topic: 'CryptoCare consultation', type: 2, start_time: '2030-03-01T09:00:00Z', duration: 30, timezone: 'UTC' });
    expect(meeting.settings).toMatchObject({ waiting_room: true, join_before_host: false, auto_recording: 'none' });
    expect(created).toEqual({ providerMeetingId: String(meeting.id), joinUrl: meeting.join_url, hostUrl: meeting.start_url, password: meeting.password });

    await provider.deleteMeeting(created.providerMeetingId);
    expect(sim.deletedMeetingIds).toEqual([meeting.id]);
    // Zoom no longer knows it (404): deleting again is done, not an error.
    await expect(provider.deleteMeeting(created.providerMeetingId)).resolves.toBeUndefined();
  });

  it('reuses one cached token across meetings and replicas, and refreshes it once after a 401', async () => {
    const cache = new MemoryCache();
    const replicaA = zoom(cache);
    const replicaB = zoom(cache);
    await Promise.all([replicaA.createMeeting(request), replicaA.createMeeting(request)]);
    await replicaB.createMeeting(request);
    expect(sim.meetings).toHaveLength(3);
    expect(sim.tokenRequests).toBe(1);
    expect(await cache.get(ZOOM_TOKEN_KEY)).toEqual({ accessToken: expect.any(String) });

    sim.expireTokens();
    const before = sim.apiRequests;
    await replicaA.createMeeting(request);
    expect(sim.meetings).toHaveLength(4);
    expect(sim.tokensIssued).toBe(2);
    expect(sim.apiRequests - before).toBe(2); // the refused call, then the one with the new token
    await replicaB.createMeeting(request); // the other replica picks the new token up
    expect(sim.tokensIssued).toBe(2);
  });

  it('caches the token only until shortly before it expires', async () => {
    const cache = new MemoryCache();
    const set = jest.spyOn(cache, 'set');
    await zoom(cache).createMeeting(request);
    expect(set).toHaveBeenCalledWith(ZOOM_TOKEN_KEY, expect.anything(), 3600 - 60);
  });

  it('waits at least the Retry-After of a 429 before trying again', async () => {
    const realFetch = globalThis.fetch;
    const calls: Array<{ url: string; sentAt: number; answeredAt?: number; status?: number }> = [];
    jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const call: (typeof calls)[number] = { url: String(input), sentAt: performance.now() };
      calls.push(call);
      const response = await realFetch(input, init);
      call.answeredAt = performance.now();
      call.status = response.status;
      return response;
    });
    sim.failNext(1, 429, 1);
    await zoom().createMeeting(request);
    expect(sim.meetings).toHaveLength(1);
    const api = calls.filter((c) => c.url.includes('/v2/'));
    expect(api.map((c) => c.status)).toEqual([429, 201]);
    // The policy's own backoff starts at 10 ms: only Retry-After explains the wait (allowing 2 ms
    // for the timer's millisecond rounding).
    expect(api[1]!.sentAt - api[0]!.answeredAt!).toBeGreaterThanOrEqual(1_000 - 2);
  });

  it('does not retry early when Zoom asks to wait longer than the policy ever waits', async () => {
    sim.failNext(1, 429, 60);
    await expect(zoom().createMeeting(request)).rejects.toMatchObject({ name: 'ProviderRejectedError', status: 429 });
    expect(sim.apiRequests).toBe(1);
  });

  it('retries a token endpoint outage', async () => {
    sim.failNextTokens(2, 503);
    await zoom().createMeeting(request);
    expect(sim.tokenRequests).toBe(3);
    expect(sim.meetings).toHaveLength(1);
  });

  it('gives up after its retries on repeated 503s, then its breaker opens and Zoom is no longer called', async () => {
    const provider = zoom();
    sim.failNext(1_000, 503);
    await expect(provider.createMeeting(request)).rejects.toMatchObject({ name: 'TransientProviderError', status: 503 });
    expect(sim.apiRequests).toBe(3); // first attempt + 2 retries
    await expect(provider.createMeeting(request)).rejects.toBeDefined();
    await expect(provider.createMeeting(request)).rejects.toBeDefined();
    const calls = sim.apiRequests;
    await expect(provider.createMeeting(request)).rejects.toMatchObject({ isBrokenCircuitError: true });
    expect(sim.apiRequests).toBe(calls);
  });

  it('also works when configured with the bare origins', async () => {
    const provider = new ZoomMeetingProvider({ apiUrl: base, oauthUrl: base, accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, cache: new MemoryCache(), logger, policy: FAST });
    const created = await provider.createMeeting(request);
    expect(sim.meetings.map((m) => String(m.id))).toEqual([created.providerMeetingId]);
  });

  it('rejects bad credentials without retrying', async () => {
    const provider = new ZoomMeetingProvider({ apiUrl: `${base}/v2`, oauthUrl: `${base}/oauth/token`, accountId: ACCOUNT, clientId: CLIENT_ID, clientSecret: 'wrong', cache: new MemoryCache(), logger, policy: FAST });
    await expect(provider.createMeeting(request)).rejects.toMatchObject({ name: 'ProviderRejectedError', status: 400 });
    expect(sim.tokenRequests).toBe(1);
  });

  describe('with Jitsi as the fallback', () => {
    const jitsi = new JitsiMeetingProvider('https://jitsi.example/');

    it('uses Zoom while it answers', async () => {
      const meeting = await new ResilientMeetingProvider(zoom(), jitsi, logger).createMeeting(request);
      expect(meeting.provider).toBe('zoom');
      expect(sim.meetings.map((m) => String(m.id))).toEqual([meeting.providerMeetingId]);
    });

    it('falls back to Jitsi when Zoom keeps failing, and at once while the breaker is open', async () => {
      const provider = new ResilientMeetingProvider(zoom(new MemoryCache(), { breakAfter: 1 }), jitsi, logger);
      sim.failNext(1_000, 503);
      const unavailableBefore = await fallbacks('unavailable');
      const first = await provider.createMeeting(request);
      expect(first).toMatchObject({ provider: 'jitsi', password: '' });
      expect(first.joinUrl).toMatch(/^https:\/\/jitsi\.example\/CryptoCare-[a-z2-7]{26}$/);
      expect(await fallbacks('unavailable')).toBe(unavailableBefore + 1);

      const openBefore = await fallbacks('circuit_open');
      const calls = sim.apiRequests;
      const second = await provider.createMeeting(request);
      expect(second.provider).toBe('jitsi');
      expect(sim.apiRequests).toBe(calls);
      expect(await fallbacks('circuit_open')).toBe(openBefore + 1);
    });

    it('falls back to Jitsi when Zoom hangs past the per-attempt timeout', async () => {
      sim.setLatencyMs(500);
      const meeting = await new ResilientMeetingProvider(zoom(new MemoryCache(), { timeoutMs: 100, retries: 0 }), jitsi, logger).createMeeting(request);
      expect(meeting.provider).toBe('jitsi');
    });

    it('deletes at the provider that made the meeting', async () => {
      const provider = new ResilientMeetingProvider(zoom(), jitsi, logger);
      const meeting = await provider.createMeeting(request);
      await provider.deleteMeeting('jitsi', 'CryptoCare-whatever');
      expect(sim.deletedMeetingIds).toEqual([]);
      await provider.deleteMeeting('zoom', meeting.providerMeetingId);
      expect(sim.deletedMeetingIds).toEqual([Number(meeting.providerMeetingId)]);
    });
  });
});

describe('Zoom URL building', () => {
  it('uses the documented production values as they are', () => {
    expect(ZOOM_API_BASE_URL).toBe('https://api.zoom.us/v2');
    expect(ZOOM_TOKEN_URL).toBe('https://zoom.us/oauth/token');
    expect(zoomEndpoints('https://api.zoom.us/v2', 'https://zoom.us/oauth/token')).toEqual({ api: 'https://api.zoom.us/v2', token: 'https://zoom.us/oauth/token' });
    expect(zoomEndpoints('https://api.zoom.us/v2/', 'https://zoom.us/oauth/token/')).toEqual({ api: 'https://api.zoom.us/v2', token: 'https://zoom.us/oauth/token' });
  });

  it('completes bare origins and keeps a path prefix (a proxy or the simulator)', () => {
    expect(zoomEndpoints('https://api.zoom.us', 'https://zoom.us')).toEqual({ api: 'https://api.zoom.us/v2', token: 'https://zoom.us/oauth/token' });
    expect(zoomEndpoints('http://127.0.0.1:4010/', 'http://127.0.0.1:4010')).toEqual({ api: 'http://127.0.0.1:4010/v2', token: 'http://127.0.0.1:4010/oauth/token' });
    expect(zoomEndpoints('https://egress.internal/zoom-api', 'https://egress.internal/zoom-oauth')).toEqual({
      api: 'https://egress.internal/zoom-api/v2',
      token: 'https://egress.internal/zoom-oauth/oauth/token',
    });
  });

  it('calls the documented production URLs, never /v2/v2 or /oauth/token/oauth/token', async () => {
    const calls: Array<{ method: string; url: string }> = [];
    const fetchMock = jest.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
      const url = String(input);
      calls.push({ method: init?.method ?? 'GET', url });
      if (url.startsWith('https://zoom.us/')) return new Response(JSON.stringify({ access_token: 'tok', token_type: 'bearer', expires_in: 3600 }), { status: 200 });
      if (init?.method === 'POST') return new Response(JSON.stringify({ id: 85746065432, join_url: 'https://zoom.us/j/85746065432?pwd=x', start_url: 'https://zoom.us/s/85746065432?zak=y', password: 'p' }), { status: 201 });
      return new Response(null, { status: 204 });
    });
    try {
      const provider = new ZoomMeetingProvider({ apiUrl: ZOOM_API_BASE_URL, oauthUrl: ZOOM_TOKEN_URL, accountId: 'acc 1', clientId: 'c', clientSecret: 's', cache: new MemoryCache(), logger, policy: FAST });
      const created = await provider.createMeeting(request);
      await provider.deleteMeeting(created.providerMeetingId);
    } finally {
      fetchMock.mockRestore();
    }
    expect(calls).toEqual([
      { method: 'POST', url: 'https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acc%201' },
      { method: 'POST', url: 'https://api.zoom.us/v2/users/me/meetings' },
      { method: 'DELETE', url: 'https://api.zoom.us/v2/meetings/85746065432' },
    ]);
  });
});

describe('Jitsi provider', () => {
  it('makes unguessable rooms (128 random bits) with one URL for host and participants', async () => {
    const jitsi = new JitsiMeetingProvider('https://meet.example');
    const a = await jitsi.createMeeting(request);
    const b = await jitsi.createMeeting(request);
    expect(a.joinUrl).toMatch(/^https:\/\/meet\.example\/CryptoCare-[a-z2-7]{26}$/);
    expect(a.hostUrl).toBe(a.joinUrl);
    expect(a.providerMeetingId).toBe(a.joinUrl.slice('https://meet.example/'.length));
    expect(b.joinUrl).not.toBe(a.joinUrl);
  });

  it('encodes base32 as RFC 4648', () => {
    expect(base32(Buffer.from(''))).toBe('');
    expect(base32(Buffer.from('f'))).toBe('my');
    expect(base32(Buffer.from('foobar'))).toBe('mzxw6ytboi');
    expect(base32(new Uint8Array(16).fill(255))).toBe('7'.repeat(25) + '4');
  });
});
