// Zoom simulator: Server-to-Server OAuth token endpoint and the user and meeting endpoints of the REST API v2.
//
// Real shapes: POST /oauth/token (grant_type=account_credentials, Basic client credentials), POST /v2/users/:userId/meetings,
// GET|PATCH|DELETE /v2/meetings/:meetingId, GET /v2/users/:userId/meetings, POST|GET /v2/users, GET|DELETE /v2/users/:userId.
// What the real one enforces and this one too: meetings only on users that exist; a start_url that works for
// 2 hours after it was issued (GET /v2/meetings/:id issues a fresh one); 100 meeting creations or updates per host
// user and UTC day (429, X-RateLimit-Type Daily-limit, Retry-After sometimes missing); one live meeting per host.
// Simulator-only: GET /j/:id and /s/:id (the join/start pages behind join_url and start_url; /s/ starts the
// meeting), and the control routes under /_sim/ (clock, quota, starting, joining and ending a meeting).
// Webhooks as Zoom sends them (developers.zoom.us/docs/api/webhooks): an endpoint is taken only after it
// answers the endpoint.url_validation challenge; then meeting.started, meeting.participant_joined and
// meeting.ended are POSTed with x-zm-request-timestamp and x-zm-signature ("v0=" + hex HMAC-SHA256 of
// "v0:{timestamp}:{body}" under the Secret Token), retried on failure.
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { asRecord, createServer, escapeHtml, publicBase, type SimulatorServer } from './server';
import { StateFile } from './state-file';
import { WebhookDispatcher, type WebhookDelivery } from './webhooks';

export interface ZoomSimulatorOptions {
  accountId: string;
  clientId: string;
  clientSecret: string;
  /** Base of join_url/start_url and of the token's api_url; defaults to the listening URL. */
  publicBaseUrl?: string;
  /** Access-token lifetime, default 3600 s (as Zoom). */
  tokenTtlSeconds?: number;
  /** `scope` returned with tokens. */
  scope?: string;
  hostEmail?: string;
  logger?: boolean;
  /** JSON file keeping meetings and tokens across restarts; saved on every change, loaded at creation. */
  stateFile?: string;
  /** Meeting creations and updates per host user and UTC day; default 100 (as Zoom). */
  dailyMeetingLimit?: number;
  /** The Secret Token of the app's event subscription (signs the webhooks); without it no webhook is sent. */
  webhookSecretToken?: string;
  /** Waits before each webhook retry (default 1 s, 5 s, 30 s). */
  webhookRetryDelaysMs?: number[];
}

/** Who joins a meeting through the control routes. */
export type ZoomJoinRole = 'host' | 'patient';

export interface ZoomUser {
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  display_name: string;
  /** 1 basic, 2 licensed, 4 unassigned without meetings basic, 99 none. */
  type: number;
  status: 'active' | 'pending' | 'inactive';
  created_at: string;
}

/** How long a start_url works after it is issued (Zoom: two hours for regular users). */
export const START_URL_TTL_MS = 2 * 60 * 60 * 1000;

/** What the state file holds. */
interface ZoomState {
  hostId: string;
  /** Access token and its expiry (ms). */
  tokens: Array<[string, number]>;
  meetings: ZoomMeeting[];
  deleted: number[];
  /** Users other than the account owner (absent in older files). */
  users?: ZoomUser[];
}

export interface ZoomMeeting {
  uuid: string;
  id: number;
  host_id: string;
  host_email: string;
  topic: string;
  type: number;
  status: 'waiting' | 'started' | 'finished';
  start_time?: string;
  duration: number;
  timezone: string;
  agenda?: string;
  created_at: string;
  start_url: string;
  join_url: string;
  password: string;
  h323_password: string;
  pstn_password: string;
  encrypted_password: string;
  settings: Record<string, unknown>;
  pre_schedule: boolean;
}

export interface ZoomSimulator extends Omit<SimulatorServer, 'onClose'> {
  /** Live meetings (deleted ones are removed), in creation order. */
  readonly meetings: readonly ZoomMeeting[];
  readonly deletedMeetingIds: readonly number[];
  /** POST /oauth/token calls, successful or not. */
  readonly tokenRequests: number;
  /** Tokens issued so far. */
  readonly tokensIssued: number;
  /** Calls to /v2 endpoints, including rejected ones. */
  readonly apiRequests: number;
  /** The next n /v2 calls answer `status` (default 429, with Retry-After when given). */
  failNext(n: number, status?: number, retryAfterSeconds?: number): void;
  /** The next n token requests answer `status` (default 503). */
  failNextTokens(n: number, status?: number): void;
  /** Makes every issued token expired (API answers 401 code 124 "Access token is expired."). */
  expireTokens(): void;
  getMeeting(id: number): ZoomMeeting | undefined;
  /** Every user, the account owner (`me`) first. */
  readonly users: readonly ZoomUser[];
  /** The account owner, whom `users/me` means. */
  readonly owner: ZoomUser;
  /** The simulator's clock (ms): real time plus what setNow/advanceClock moved it by. */
  now(): number;
  setNow(ms: number): void;
  advanceClock(ms: number): void;
  /** The daily creation/update limit per host, and whether its 429 carries Retry-After (default true). */
  setDailyLimit(limit: number, options?: { retryAfter?: boolean }): void;
  /** Creations and updates counted today (the simulator's UTC day) for a user id. */
  usedToday(userId: string): number;
  /** Ends a started meeting (as when the host leaves): meeting.ended. */
  endMeeting(id: number): void;
  /** The host starts the meeting (meeting.started, then the host's meeting.participant_joined); false if it does not exist or the host is busy. */
  startMeeting(id: number): boolean;
  /** The host or the patient joins (meeting.participant_joined); the patient only once the meeting started. */
  joinMeeting(id: number, role: ZoomJoinRole): boolean;
  /**
   * Subscribes `url` to the meeting events after the endpoint.url_validation challenge, as Zoom does
   * when an app's event subscription is saved; throws (the endpoint is not taken) if the answer is wrong.
   */
  subscribeWebhooks(url: string): Promise<void>;
  /** The subscribed endpoint, once validated. */
  readonly webhookUrl: string | undefined;
  /** Every webhook sent (with its attempts). */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Resolves once every webhook sent so far was delivered or given up. */
  waitForWebhooks(): Promise<void>;
  reset(): void;
}

const DEFAULT_SCOPE = 'meeting:write:meeting:admin meeting:read:meeting:admin meeting:update:meeting:admin meeting:delete:meeting:admin';

const DEFAULT_SETTINGS: Record<string, unknown> = {
  host_video: false,
  participant_video: false,
  cn_meeting: false,
  in_meeting: false,
  join_before_host: false,
  jbh_time: 0,
  mute_upon_entry: false,
  watermark: false,
  use_pmi: false,
  approval_type: 2,
  audio: 'voip',
  auto_recording: 'none',
  enforce_login: false,
  enforce_login_domains: '',
  alternative_hosts: '',
  waiting_room: true,
  meeting_authentication: false,
  encryption_type: 'enhanced_encryption',
  private_meeting: false,
  email_notification: true,
  host_save_video_order: false,
};

const b64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const zoomTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Offset (ms) of `timeZone` from UTC at instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** Zoom reads a start_time without offset ("2026-03-01T09:00:00") in the meeting's timezone; answers UTC "…Z". */
export function normalizeStartTime(value: string, timeZone: string | undefined): string | undefined {
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : zoomTime(ms);
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/.exec(value);
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (!timeZone || timeZone === 'UTC' || timeZone === 'GMT') return zoomTime(wall);
  try {
    let utc = wall - zoneOffsetMs(wall, timeZone);
    utc = wall - zoneOffsetMs(utc, timeZone); // second pass settles DST edges
    return zoomTime(utc);
  } catch {
    return zoomTime(wall); // unknown time zone: treat as UTC
  }
}

export function createZoomSimulator(opts: ZoomSimulatorOptions): ZoomSimulator {
  const server = createServer({ logger: opts.logger });
  const { app } = server;
  const ttl = opts.tokenTtlSeconds ?? 3600;
  const store = opts.stateFile ? new StateFile<ZoomState>(opts.stateFile) : undefined;
  const saved = store?.load();
  const hostId = saved?.hostId ?? b64url(randomBytes(16)).slice(0, 22);
  const hostEmail = opts.hostEmail ?? 'host@cryptocare.invalid';
  const tokens = new Map<string, number>(saved?.tokens ?? []); // token -> expiry (ms)
  const meetings = new Map<number, ZoomMeeting>((saved?.meetings ?? []).map((m) => [m.id, m]));
  const deleted: number[] = [...(saved?.deleted ?? [])];
  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  const owner: ZoomUser = {
    id: hostId,
    email: hostEmail,
    first_name: 'CryptoCare',
    last_name: 'Owner',
    display_name: 'CryptoCare Owner',
    type: 2,
    status: 'active',
    created_at: zoomTime(Date.now()),
  };
  const users = new Map<string, ZoomUser>([[owner.id, owner], ...(saved?.users ?? []).map((u): [string, ZoomUser] => [u.id, u])]);
  const defaultDailyLimit = opts.dailyMeetingLimit ?? 100;
  let quota = { limit: defaultDailyLimit, retryAfter: true };
  /** user id -> [UTC day (yyyy-mm-dd), creations and updates that day] */
  const used = new Map<string, [string, number]>();
  /** zak of each issued start_url -> its meeting and expiry (simulator clock, ms). */
  const startTokens = new Map<string, { meetingId: number; expiresAt: number }>();
  let closing = false;
  const dispatcher = new WebhookDispatcher({ retryDelaysMs: opts.webhookRetryDelaysMs ?? [1_000, 5_000, 30_000], timeoutMs: 3_000 });
  let webhookUrl: string | undefined;
  server.onClose(() => {
    closing = true;
    dispatcher.close();
  });

  const signWebhook = (secret: string, body: string) => {
    // Zoom's clock, not the simulated one (setNow moves the meetings' time, not the signatures').
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    return { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'Zoom Marketplace/1.0a', 'x-zm-request-timestamp': timestamp, 'x-zm-signature': signature };
  };

  /** The meeting as Zoom's meeting webhooks carry it in payload.object. */
  const eventObject = (m: ZoomMeeting) => ({
    id: String(m.id),
    uuid: m.uuid,
    host_id: m.host_id,
    topic: m.topic,
    type: m.type,
    start_time: m.start_time ?? zoomTime(now()),
    timezone: m.timezone,
    duration: m.duration,
  });

  /** POSTs a signed event to the subscribed endpoint (nothing without one). */
  function sendWebhook(event: string, meeting: ZoomMeeting, extra: Record<string, unknown> = {}): void {
    if (!webhookUrl || !opts.webhookSecretToken) return;
    const body = JSON.stringify({ event, payload: { account_id: opts.accountId, object: { ...eventObject(meeting), ...extra } }, event_ts: Date.now() });
    dispatcher.enqueue({ url: webhookUrl, event, invoiceId: String(meeting.id), headers: signWebhook(opts.webhookSecretToken, body), body });
  }

  /** meeting.participant_joined: the host (signed in: participant.id is their user id) or a guest (empty id). */
  function sendJoined(meeting: ZoomMeeting, role: ZoomJoinRole): void {
    const host = users.get(meeting.host_id) ?? (meeting.host_id === owner.id ? owner : undefined);
    sendWebhook('meeting.participant_joined', meeting, {
      participant:
        role === 'host'
          ? { user_id: String(randomInt(16_000_000, 17_000_000)), user_name: host?.display_name || 'Host', id: meeting.host_id, participant_uuid: randomUUID(), join_time: zoomTime(now()), email: host?.email ?? '', participant_user_id: meeting.host_id }
          : { user_id: String(randomInt(16_000_000, 17_000_000)), user_name: 'Patient', id: '', participant_uuid: randomUUID(), join_time: zoomTime(now()), email: '' },
    });
  }

  /** The host starts the meeting; false when the host has another meeting going on. */
  function startMeeting(meeting: ZoomMeeting): boolean {
    const live = [...meetings.values()].find((m) => m.host_id === meeting.host_id && m.id !== meeting.id && m.status === 'started');
    if (live) return false;
    if (meeting.status !== 'started') {
      meeting.status = 'started';
      persist();
      sendWebhook('meeting.started', meeting);
    }
    sendJoined(meeting, 'host');
    return true;
  }

  /** Saves the whole state after a change, before it is answered. */
  function persist(): void {
    if (!store || closing) return;
    const now = Date.now();
    store.save({ hostId, tokens: [...tokens].filter(([, expiry]) => expiry > now), meetings: [...meetings.values()], deleted, users: [...users.values()].filter((u) => u.id !== owner.id) });
  }
  persist();
  let tokenRequests = 0;
  let tokensIssued = 0;
  let apiRequests = 0;
  let failApi = { n: 0, status: 429, retryAfter: undefined as number | undefined };
  let failTokens = { n: 0, status: 503 };

  const base = (req?: FastifyRequest) => publicBase(opts.publicBaseUrl, server, req);

  function issueToken(): string {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: 'HS512', v: '2.0', kid: randomUUID() }));
    const payload = b64url(JSON.stringify({ aud: 'https://oauth.zoom.us', uid: hostId, ver: 10, auid: opts.accountId, iat: now, exp: now + ttl, jti: randomUUID() }));
    const token = `${header}.${payload}.${b64url(randomBytes(48))}`;
    tokens.set(token, Date.now() + ttl * 1000);
    tokensIssued++;
    persist();
    return token;
  }

  app.post('/oauth/token', async (req, reply) => {
    tokenRequests++;
    if (failTokens.n > 0) {
      failTokens.n--;
      return reply.code(failTokens.status).send({ reason: 'Service unavailable', error: 'server_error' });
    }
    const query = asRecord(req.query);
    const form = asRecord(req.body);
    const param = (name: string) => (typeof form[name] === 'string' ? form[name] : query[name]) as string | undefined;
    const auth = req.headers.authorization ?? '';
    const m = /^Basic\s+(.+)$/i.exec(auth);
    const decoded = m?.[1] ? Buffer.from(m[1], 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const [clientId, clientSecret] = sep < 0 ? ['', ''] : [decoded.slice(0, sep), decoded.slice(sep + 1)];
    if (!clientId || !clientSecret) return reply.code(400).send({ reason: 'Client ID or client secret is missing', error: 'invalid_request' });
    // Zoom answers bad client credentials with HTTP 400 invalid_client (not 401).
    if (clientId !== opts.clientId || clientSecret !== opts.clientSecret) {
      return reply.code(400).send({ reason: 'Invalid client_id or client_secret', error: 'invalid_client' });
    }
    const grantType = param('grant_type');
    if (!grantType) return reply.code(400).send({ reason: 'Missing grant type', error: 'invalid_request' });
    if (grantType !== 'account_credentials') return reply.code(400).send({ reason: 'unsupported grant type', error: 'unsupported_grant_type' });
    if (param('account_id') !== opts.accountId) return reply.code(400).send({ reason: 'Invalid account_id', error: 'invalid_request' });
    return reply.send({
      access_token: issueToken(),
      token_type: 'bearer',
      expires_in: ttl,
      scope: opts.scope ?? DEFAULT_SCOPE,
      api_url: base(req),
    });
  });

  // Rate-limit injection, then bearer authentication, for every /v2 route.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v2/')) return;
    apiRequests++;
    if (failApi.n > 0) {
      failApi.n--;
      if (failApi.retryAfter !== undefined) reply.header('Retry-After', String(failApi.retryAfter));
      if (failApi.status === 429) {
        reply.header('X-RateLimit-Category', 'Light').header('X-RateLimit-Type', 'QPS');
        return reply.code(429).send({ code: 429, message: "You have reached the maximum per-second rate limit for this API. Try again later." });
      }
      return reply.code(failApi.status).send({ code: failApi.status, message: 'Service temporarily unavailable.' });
    }
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    const expiry = m?.[1] ? tokens.get(m[1]) : undefined;
    if (expiry === undefined) return reply.code(401).send({ code: 124, message: 'Invalid access token.' });
    if (Date.now() >= expiry) return reply.code(401).send({ code: 124, message: 'Access token is expired.' });
  });

  function notFound(reply: FastifyReply, id: string) {
    return reply.code(404).send({ code: 3001, message: `Meeting does not exist: ${id}.` });
  }

  function validation(reply: FastifyReply, field: string, message = 'Invalid field.') {
    return reply.code(400).send({ code: 300, message: 'Validation Failed.', errors: [{ field, message }] });
  }

  function newMeetingId(): number {
    for (;;) {
      const id = randomInt(80_000_000_000, 99_999_999_999);
      if (!meetings.has(id) && !deleted.includes(id)) return id;
    }
  }

  /** `me`, a user id or a user's email (Zoom accepts each for userId). */
  function findUser(userId: string): ZoomUser | undefined {
    if (userId === 'me') return owner;
    const byId = users.get(userId);
    if (byId) return byId;
    const email = userId.toLowerCase();
    return [...users.values()].find((u) => u.email.toLowerCase() === email);
  }

  function userNotFound(reply: FastifyReply, userId: string) {
    return reply.code(404).send({ code: 1001, message: `User does not exist: ${userId}.` });
  }

  const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

  function usedToday(userId: string): number {
    const entry = used.get(userId);
    return entry && entry[0] === utcDay(now()) ? entry[1] : 0;
  }

  /**
   * Counts one creation or update against the host's daily limit; false (and the 429 sent) when
   * the limit is reached. Retry-After says when the next UTC day starts, unless switched off (the
   * real Zoom does not always send it).
   */
  function takeQuota(userId: string, reply: FastifyReply): boolean {
    const today = usedToday(userId);
    if (today >= quota.limit) {
      const at = now();
      const nextDay = Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth(), new Date(at).getUTCDate() + 1);
      reply.header('X-RateLimit-Category', 'Medium').header('X-RateLimit-Type', 'Daily-limit').header('X-RateLimit-Limit', String(quota.limit)).header('X-RateLimit-Remaining', '0');
      if (quota.retryAfter) reply.header('Retry-After', String(Math.ceil((nextDay - at) / 1000)));
      void reply.code(429).send({ code: 429, message: `You have exceeded the daily rate limit (${quota.limit}) of Meeting Create/Update API requests permitted for this particular user. You may resume these requests at GMT 00:00:00.` });
      return false;
    }
    used.set(userId, [utcDay(now()), today + 1]);
    return true;
  }

  /** A start_url for the meeting, valid START_URL_TTL_MS from now. */
  function issueStartUrl(req: FastifyRequest, meetingId: number): string {
    const zak = b64url(randomBytes(32));
    startTokens.set(zak, { meetingId, expiresAt: now() + START_URL_TTL_MS });
    return `${base(req)}/s/${meetingId}?zak=${zak}`;
  }

  const userJson = (u: ZoomUser) => ({ ...u, pmi: 0, timezone: 'UTC', verified: 1, dept: '', last_login_time: u.created_at, language: 'en-US' });

  app.post('/v2/users', async (req, reply) => {
    const body = asRecord(req.body);
    const action = body.action;
    if (typeof action !== 'string' || !['create', 'autoCreate', 'custCreate', 'ssoCreate'].includes(action)) return validation(reply, 'action');
    const info = asRecord(body.user_info);
    const email = info.email;
    if (typeof email !== 'string' || email.length > 128 || !/^[^\s@\u0000]+@[^\s@\u0000]+\.[^\s@\u0000]+$/.test(email)) return validation(reply, 'user_info.email');
    const type = info.type;
    if (typeof type !== 'number' || ![1, 2, 4, 99].includes(type)) return validation(reply, 'user_info.type');
    const name = (value: unknown) => (typeof value === 'string' ? value.slice(0, 64) : '');
    if (findUser(email)) return reply.code(409).send({ code: 1005, message: `User already in the account: ${email}` });
    const user: ZoomUser = {
      id: b64url(randomBytes(16)).slice(0, 22),
      email,
      first_name: name(info.first_name),
      last_name: name(info.last_name),
      display_name: name(info.display_name) || `${name(info.first_name)} ${name(info.last_name)}`.trim(),
      type,
      // Users created with custCreate or autoCreate need no confirmation; create sends an invitation.
      status: action === 'create' ? 'pending' : 'active',
      created_at: zoomTime(now()),
    };
    users.set(user.id, user);
    persist();
    return reply.code(201).send({ id: user.id, first_name: user.first_name, last_name: user.last_name, email: user.email, type: user.type });
  });

  app.get('/v2/users', async (req, reply) => {
    const query = asRecord(req.query);
    const size = Math.min(300, Math.max(1, Number(query.page_size) || 30));
    const start = Math.max(0, Number(query.next_page_token) || 0);
    const status = typeof query.status === 'string' ? query.status : 'active';
    const all = [...users.values()].filter((u) => u.status === status);
    const page = all.slice(start, start + size);
    return reply.send({
      page_count: Math.ceil(all.length / size),
      page_number: Math.floor(start / size) + 1,
      page_size: size,
      total_records: all.length,
      next_page_token: start + size < all.length ? String(start + size) : '',
      users: page.map(userJson),
    });
  });

  app.get<{ Params: { userId: string } }>('/v2/users/:userId', async (req, reply) => {
    const user = findUser(req.params.userId);
    if (!user) return userNotFound(reply, req.params.userId);
    return reply.send(userJson(user));
  });

  // action=delete removes the user and their meetings; disassociate (Zoom's default) only unlinks the
  // user from the account: here both remove it from the account, meetings included.
  app.delete<{ Params: { userId: string } }>('/v2/users/:userId', async (req, reply) => {
    const user = findUser(req.params.userId);
    if (!user) return userNotFound(reply, req.params.userId);
    if (user.id === owner.id) return reply.code(400).send({ code: 200, message: 'The account owner cannot be deleted.' });
    const action = asRecord(req.query).action ?? 'disassociate';
    if (action !== 'delete' && action !== 'disassociate') return validation(reply, 'action');
    users.delete(user.id);
    for (const m of [...meetings.values()]) {
      if (m.host_id !== user.id) continue;
      meetings.delete(m.id);
      deleted.push(m.id);
    }
    persist();
    return reply.code(204).send();
  });

  app.post<{ Params: { userId: string } }>('/v2/users/:userId/meetings', async (req, reply) => {
    const host = findUser(req.params.userId);
    if (!host) return userNotFound(reply, req.params.userId);
    if (req.body === undefined || typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) {
      return reply.code(400).send({ code: 300, message: 'Request Body should be a valid JSON object.' });
    }
    const body = asRecord(req.body);
    const type = body.type === undefined ? 2 : body.type;
    if (typeof type !== 'number' || ![1, 2, 3, 8, 10].includes(type)) return validation(reply, 'type');
    if (body.topic !== undefined && (typeof body.topic !== 'string' || body.topic.length > 200)) return validation(reply, 'topic');
    const duration = body.duration === undefined ? 60 : body.duration;
    if (typeof duration !== 'number' || !Number.isInteger(duration) || duration < 0) return validation(reply, 'duration');
    const timezone = typeof body.timezone === 'string' && body.timezone ? body.timezone : 'UTC';
    let startTime: string | undefined;
    if (body.start_time !== undefined) {
      if (typeof body.start_time !== 'string') return validation(reply, 'start_time');
      startTime = normalizeStartTime(body.start_time, timezone);
      if (!startTime) return validation(reply, 'start_time');
    } else if (type === 2 || type === 1) {
      startTime = zoomTime(now());
    }
    if (body.password !== undefined && (typeof body.password !== 'string' || body.password.length > 10)) {
      return validation(reply, 'password', 'Password must be at most 10 characters.');
    }
    if (!takeQuota(host.id, reply)) return reply;
    const id = newMeetingId();
    const password = typeof body.password === 'string' && body.password ? body.password : b64url(randomBytes(6)).replace(/[-_]/g, 'x').slice(0, 6);
    const encrypted = b64url(randomBytes(24)) + '.1';
    const settings = { ...DEFAULT_SETTINGS, ...asRecord(body.settings) };
    const meeting: ZoomMeeting = {
      uuid: randomBytes(16).toString('base64'),
      id,
      host_id: host.id,
      host_email: host.email,
      topic: typeof body.topic === 'string' ? body.topic : 'Zoom meeting',
      type,
      status: 'waiting',
      ...(startTime ? { start_time: startTime } : {}),
      duration,
      timezone,
      ...(typeof body.agenda === 'string' ? { agenda: body.agenda } : {}),
      created_at: zoomTime(now()),
      start_url: issueStartUrl(req, id),
      join_url: `${base(req)}/j/${id}?pwd=${encrypted}`,
      password,
      h323_password: String(randomInt(100000, 999999)),
      pstn_password: String(randomInt(100000, 999999)),
      encrypted_password: encrypted,
      settings,
      pre_schedule: body.pre_schedule === true,
    };
    meetings.set(id, meeting);
    persist();
    return reply.code(201).send(meeting);
  });

  app.get<{ Params: { userId: string } }>('/v2/users/:userId/meetings', async (req, reply) => {
    const host = findUser(req.params.userId);
    if (!host) return userNotFound(reply, req.params.userId);
    const list = [...meetings.values()].filter((m) => m.host_id === host.id).map((m) => ({
      uuid: m.uuid,
      id: m.id,
      host_id: m.host_id,
      topic: m.topic,
      type: m.type,
      start_time: m.start_time,
      duration: m.duration,
      timezone: m.timezone,
      created_at: m.created_at,
      join_url: m.join_url,
    }));
    return reply.send({ page_size: 30, total_records: list.length, next_page_token: '', meetings: list });
  });

  app.get<{ Params: { meetingId: string } }>('/v2/meetings/:meetingId', async (req, reply) => {
    const meeting = meetings.get(Number(req.params.meetingId));
    if (!meeting) return notFound(reply, req.params.meetingId);
    // Every read issues a fresh start_url: the way to get a working one after the first expired.
    meeting.start_url = issueStartUrl(req, meeting.id);
    return reply.send({ ...meeting, assistant_id: '' });
  });

  app.patch<{ Params: { meetingId: string } }>('/v2/meetings/:meetingId', async (req, reply) => {
    const meeting = meetings.get(Number(req.params.meetingId));
    if (!meeting) return notFound(reply, req.params.meetingId);
    if (!takeQuota(meeting.host_id, reply)) return reply;
    const body = asRecord(req.body);
    if (typeof body.topic === 'string') meeting.topic = body.topic;
    if (typeof body.agenda === 'string') meeting.agenda = body.agenda;
    if (typeof body.duration === 'number') meeting.duration = body.duration;
    if (typeof body.timezone === 'string') meeting.timezone = body.timezone;
    if (typeof body.start_time === 'string') {
      const start = normalizeStartTime(body.start_time, meeting.timezone);
      if (!start) return validation(reply, 'start_time');
      meeting.start_time = start;
    }
    if (body.settings !== undefined) meeting.settings = { ...meeting.settings, ...asRecord(body.settings) };
    persist();
    return reply.code(204).send();
  });

  app.delete<{ Params: { meetingId: string } }>('/v2/meetings/:meetingId', async (req, reply) => {
    const id = Number(req.params.meetingId);
    if (!meetings.delete(id)) return notFound(reply, req.params.meetingId);
    deleted.push(id);
    persist();
    return reply.code(204).send();
  });

  const html = (reply: FastifyReply, code: number, title: string, bodyText: string) =>
    reply
      .code(code)
      .type('text/html; charset=utf-8')
      .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} – Zoom (simulator)</title></head><body><p><small>Zoom — local simulator.</small></p><h1 data-testid="meeting-topic">${title}</h1>${bodyText}</body></html>`);

  const page = (role: 'host' | 'participant') => async (req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
    const meeting = meetings.get(Number(req.params.id));
    if (!meeting) return html(reply, 404, 'Meeting not found', '<p>This meeting does not exist or was cancelled.</p>');
    const title = escapeHtml(meeting.topic);
    if (role === 'host') {
      // The host's link starts the meeting: only with a zak issued for it less than 2 hours ago,
      // and only while the host has no other meeting going on.
      const zak = asRecord(req.query).zak;
      const grant = typeof zak === 'string' ? startTokens.get(zak) : undefined;
      if (!grant || grant.meetingId !== meeting.id || now() >= grant.expiresAt) {
        return html(reply, 401, title, '<p data-testid="start-refused">This link has expired. Ask for a new start link.</p>');
      }
      if (!startMeeting(meeting)) return html(reply, 409, title, '<p data-testid="start-refused">You have a meeting that is currently in progress. Please end it to start a new meeting.</p>');
    } else {
      // The waiting room: nobody joins before the host started the meeting.
      if (meeting.status !== 'started') return html(reply, 200, title, '<p data-testid="waiting-for-host">Please wait, the meeting host will let you in soon.</p>');
      sendJoined(meeting, 'patient');
    }
    return html(
      reply,
      200,
      title,
      `<p>You joined meeting <strong>${escapeHtml(meeting.id)}</strong> as ${role}.</p><p>Starts ${escapeHtml(meeting.start_time ?? '')}, ${escapeHtml(meeting.duration)} min.</p>`,
    );
  };
  app.get('/j/:id', page('participant'));
  app.get('/s/:id', page('host'));

  function endMeeting(id: number): boolean {
    const meeting = meetings.get(id);
    if (!meeting || meeting.status !== 'started') return false;
    meeting.status = 'finished';
    persist();
    sendWebhook('meeting.ended', meeting, { end_time: zoomTime(now()) });
    return true;
  }

  function joinMeeting(meeting: ZoomMeeting, role: ZoomJoinRole): boolean {
    if (role === 'host') return startMeeting(meeting);
    if (meeting.status !== 'started') return false;
    sendJoined(meeting, 'patient');
    return true;
  }

  /** endpoint.url_validation: the endpoint must echo plainToken with its HMAC under the Secret Token. */
  async function subscribeWebhooks(url: string): Promise<void> {
    const secret = opts.webhookSecretToken;
    if (!secret) throw new Error('the simulator has no webhookSecretToken');
    const plainToken = b64url(randomBytes(16));
    const body = JSON.stringify({ payload: { plainToken }, event_ts: Date.now(), event: 'endpoint.url_validation' });
    let answer: unknown;
    try {
      const res = await fetch(url, { method: 'POST', headers: signWebhook(secret, body), body, redirect: 'manual', signal: AbortSignal.timeout(3_000) });
      if (res.status !== 200) throw new Error(`answered HTTP ${res.status}`);
      answer = await res.json();
    } catch (err) {
      throw new Error(`URL validation failed for ${url}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const expected = createHmac('sha256', secret).update(plainToken).digest('hex');
    const got = asRecord(answer);
    if (got.plainToken !== plainToken || got.encryptedToken !== expected) throw new Error(`URL validation failed for ${url}: wrong plainToken or encryptedToken`);
    webhookUrl = url;
  }

  // Control routes for tests and demos (not Zoom's): the clock, the daily limit, ending a meeting.
  server.exemptFromOutage(/^\/_sim\//);
  app.post('/_sim/clock', async (req, reply) => {
    const body = asRecord(req.body);
    if (typeof body.now === 'string' && !Number.isNaN(Date.parse(body.now))) clockOffsetMs = Date.parse(body.now) - Date.now();
    else if (typeof body.advanceMs === 'number' && Number.isFinite(body.advanceMs)) clockOffsetMs += body.advanceMs;
    else return reply.code(400).send({ message: 'give now (an ISO instant) or advanceMs (a number)' });
    return reply.send({ now: new Date(now()).toISOString() });
  });
  app.post('/_sim/quota', async (req, reply) => {
    const body = asRecord(req.body);
    if (body.dailyLimit !== undefined && !(typeof body.dailyLimit === 'number' && Number.isInteger(body.dailyLimit) && body.dailyLimit >= 0)) {
      return reply.code(400).send({ message: 'dailyLimit is a whole number >= 0' });
    }
    if (body.retryAfter !== undefined && typeof body.retryAfter !== 'boolean') return reply.code(400).send({ message: 'retryAfter is a boolean' });
    quota = { limit: typeof body.dailyLimit === 'number' ? body.dailyLimit : quota.limit, retryAfter: typeof body.retryAfter === 'boolean' ? body.retryAfter : quota.retryAfter };
    return reply.send(quota);
  });
  app.post('/_sim/webhooks', async (req, reply) => {
    const url = asRecord(req.body).url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) return reply.code(400).send({ message: 'give url (http or https)' });
    try {
      await subscribeWebhooks(url);
    } catch (err) {
      return reply.code(400).send({ message: err instanceof Error ? err.message : String(err) });
    }
    return reply.send({ url });
  });
  app.post<{ Params: { id: string } }>('/_sim/meetings/:id/start', async (req, reply) => {
    const meeting = meetings.get(Number(req.params.id));
    if (!meeting) return reply.code(404).send({ message: 'no such meeting' });
    if (!startMeeting(meeting)) return reply.code(409).send({ message: 'the host has another meeting in progress' });
    return reply.code(204).send();
  });
  app.post<{ Params: { id: string } }>('/_sim/meetings/:id/join', async (req, reply) => {
    const meeting = meetings.get(Number(req.params.id));
    const role = asRecord(req.body).role;
    if (role !== 'host' && role !== 'patient') return reply.code(400).send({ message: 'role is host or patient' });
    if (!meeting) return reply.code(404).send({ message: 'no such meeting' });
    if (!joinMeeting(meeting, role)) return reply.code(409).send({ message: role === 'patient' ? 'the meeting has not started: the patient waits for the host' : 'the host has another meeting in progress' });
    return reply.code(204).send();
  });
  app.post<{ Params: { id: string } }>('/_sim/meetings/:id/end', async (req, reply) => {
    if (!endMeeting(Number(req.params.id))) return reply.code(409).send({ message: 'no such started meeting' });
    return reply.code(204).send();
  });

  return {
    app,
    listen: server.listen,
    close: server.close,
    get baseUrl() {
      return server.baseUrl;
    },
    setLatencyMs: server.setLatencyMs,
    failFor: server.failFor,
    exemptFromOutage: server.exemptFromOutage,
    get meetings() {
      return [...meetings.values()];
    },
    get deletedMeetingIds() {
      return [...deleted];
    },
    get tokenRequests() {
      return tokenRequests;
    },
    get tokensIssued() {
      return tokensIssued;
    },
    get apiRequests() {
      return apiRequests;
    },
    failNext(n: number, status = 429, retryAfterSeconds?: number) {
      failApi = { n: Math.max(0, n), status, retryAfter: retryAfterSeconds };
    },
    failNextTokens(n: number, status = 503) {
      failTokens = { n: Math.max(0, n), status };
    },
    expireTokens() {
      for (const token of tokens.keys()) tokens.set(token, 0);
      persist();
    },
    getMeeting: (id: number) => meetings.get(id),
    get users() {
      return [...users.values()];
    },
    owner,
    now,
    setNow(ms: number) {
      clockOffsetMs = ms - Date.now();
    },
    advanceClock(ms: number) {
      clockOffsetMs += ms;
    },
    setDailyLimit(limit: number, options: { retryAfter?: boolean } = {}) {
      quota = { limit, retryAfter: options.retryAfter ?? true };
    },
    usedToday,
    endMeeting(id: number) {
      endMeeting(id);
    },
    startMeeting(id: number) {
      const meeting = meetings.get(id);
      return !!meeting && startMeeting(meeting);
    },
    joinMeeting(id: number, role: ZoomJoinRole) {
      const meeting = meetings.get(id);
      return !!meeting && joinMeeting(meeting, role);
    },
    subscribeWebhooks,
    get webhookUrl() {
      return webhookUrl;
    },
    get webhookDeliveries() {
      return dispatcher.deliveries;
    },
    waitForWebhooks: () => dispatcher.idle(),
    reset() {
      tokens.clear();
      meetings.clear();
      deleted.length = 0;
      for (const id of [...users.keys()]) if (id !== owner.id) users.delete(id);
      used.clear();
      startTokens.clear();
      clockOffsetMs = 0;
      quota = { limit: defaultDailyLimit, retryAfter: true };
      tokenRequests = 0;
      tokensIssued = 0;
      apiRequests = 0;
      failApi = { n: 0, status: 429, retryAfter: undefined };
      failTokens = { n: 0, status: 503 };
      dispatcher.reset(); // the subscribed endpoint stays (it is configuration, as the secret)
      server.setLatencyMs(0);
      server.failFor(0);
      persist();
    },
  };
}
