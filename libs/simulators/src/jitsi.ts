// Jitsi simulator: a Jitsi Meet deployment with token authentication, as the fallback meets it.
//
// Real behaviour it keeps (jitsi-meet doc/tokens.md, 8x8 JaaS "The Jitsi JSON Web Token"): a room is
// entered at GET /{room}?jwt=… (self-hosted) or /{tenant}/{room}?jwt=… (JaaS); the token is checked
// (signature with the app secret, HS256, or the public key its `kid` names, RS256; aud "jitsi"; iss
// the app id, or "chat" for JaaS; nbf and exp) and must be for this room (`room`, or "*") and this
// domain or tenant (`sub`, or "*"). Refused: no token, a bad signature, an expired or not yet valid
// one, one for another room or tenant (401 / 403, nothing recorded but the refusal). A room starts
// only when a moderator (context.user.moderator "true" or affiliation "owner") joins; a guest who
// comes first waits ("waiting for the host", as wait-for-host deployments and JaaS do).
// Simulator-only: GET /_sim/joins, GET /_sim/rooms/{room}, POST /_sim/clock, POST /_sim/reset.
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { asRecord, createServer, escapeHtml, publicBase, wantsHtml, type SimulatorServer } from './server';

export interface JitsiSimulatorOptions {
  /** The deployment's app id (prosody app_id; JaaS: the vpaas-magic-cookie-… app id, also the tenant). */
  appId: string;
  /** Self-hosted: the HS256 app secret. */
  appSecret?: string;
  /** JaaS: the API keys' public keys (PEM) by kid; tokens then are RS256 and issued by "chat". */
  publicKeys?: Record<string, string>;
  /** The domain `sub` names for rooms at the root; defaults to the host name of the public base URL. */
  domain?: string;
  publicBaseUrl?: string;
  logger?: boolean;
}

export interface JitsiJoin {
  room: string;
  tenant?: string;
  userId: string;
  name: string;
  moderator: boolean;
  /** started: this moderator started the room; joined: entered a started room; waiting: a guest before any moderator. */
  outcome: 'started' | 'joined' | 'waiting';
  at: string;
}

export interface JitsiRefusal {
  path: string;
  status: 401 | 403;
  reason: string;
  at: string;
}

export interface JitsiRoom {
  room: string;
  started: boolean;
  startedAt?: string;
  moderators: number;
  guests: number;
}

export interface JitsiSimulator extends Omit<SimulatorServer, 'onClose'> {
  readonly joins: readonly JitsiJoin[];
  readonly refusals: readonly JitsiRefusal[];
  room(name: string): JitsiRoom | undefined;
  /** The simulator's clock (ms): real time plus what setNow/advanceClock moved it by. */
  now(): number;
  setNow(ms: number): void;
  advanceClock(ms: number): void;
  reset(): void;
}

const ROOM = /^[A-Za-z0-9_.-]{1,200}$/;

class Refused extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function createJitsiSimulator(options: JitsiSimulatorOptions): JitsiSimulator {
  const server = createServer({ logger: options.logger });
  const { app } = server;
  const jaas = Boolean(options.publicKeys && Object.keys(options.publicKeys).length > 0);
  if (!jaas && !options.appSecret) throw new Error('jitsi simulator: give appSecret (self-hosted) or publicKeys (JaaS)');
  const secret = options.appSecret ? createSecretKey(Buffer.from(options.appSecret, 'utf8')) : undefined;
  const publicKeys = new Map<string, KeyObject>(Object.entries(options.publicKeys ?? {}).map(([kid, pem]) => [kid, createPublicKey(pem)]));

  let clockOffsetMs = 0;
  const now = () => Date.now() + clockOffsetMs;
  let joins: JitsiJoin[] = [];
  let refusals: JitsiRefusal[] = [];
  let rooms = new Map<string, JitsiRoom>();

  const domainOf = (req: FastifyRequest) => (options.domain ?? new URL(publicBase(options.publicBaseUrl, server, req)).hostname).toLowerCase();

  async function verify(token: string): Promise<JWTPayload> {
    let key: KeyObject | undefined;
    let algorithm: string;
    try {
      const header = decodeProtectedHeader(token);
      algorithm = String(header.alg);
      key = algorithm === 'HS256' ? secret : algorithm === 'RS256' && typeof header.kid === 'string' ? publicKeys.get(header.kid) : undefined;
    } catch {
      throw new Refused(401, 'invalid_token');
    }
    if (!key) throw new Refused(401, 'unknown_key');
    try {
      const { payload } = await jwtVerify(token, key, { algorithms: [algorithm], audience: 'jitsi', issuer: algorithm === 'RS256' && jaas ? 'chat' : options.appId, currentDate: new Date(now()), requiredClaims: ['exp', 'room', 'sub'] });
      return payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) throw new Refused(401, 'token_expired');
      if (err instanceof errors.JWTClaimValidationFailed && err.claim === 'nbf') throw new Refused(401, 'token_not_yet_valid');
      if (err instanceof errors.JWSSignatureVerificationFailed) throw new Refused(401, 'invalid_signature');
      throw new Refused(401, 'invalid_token');
    }
  }

  async function enter(req: FastifyRequest, room: string, tenant: string | undefined): Promise<{ join: JitsiJoin; state: JitsiRoom }> {
    if (!ROOM.test(room) || (tenant !== undefined && !ROOM.test(tenant))) throw new Refused(403, 'invalid_room');
    const token = asRecord(req.query).jwt;
    if (typeof token !== 'string' || token === '') throw new Refused(401, 'token_required');
    const payload = await verify(token);
    // Jitsi rooms and tenants are case-insensitive; `*` stands for any.
    const wanted = String(payload.room).toLowerCase();
    if (wanted !== '*' && wanted !== room.toLowerCase()) throw new Refused(403, 'wrong_room');
    const sub = String(payload.sub).toLowerCase();
    const expectedSub = tenant ? tenant.toLowerCase() : domainOf(req);
    if (sub !== '*' && sub !== expectedSub) throw new Refused(403, 'wrong_tenant');
    const context = asRecord(payload.context);
    const user = asRecord(context.user);
    // Jitsi needs every field of context.user to be a string (a number or null throws there).
    if (Object.values(user).some((v) => typeof v !== 'string')) throw new Refused(401, 'invalid_token');
    const moderator = user.moderator === 'true' || user.affiliation === 'owner';

    const key = `${tenant ? `${tenant.toLowerCase()}/` : ''}${room.toLowerCase()}`;
    const state = rooms.get(key) ?? { room: key, started: false, moderators: 0, guests: 0 };
    rooms.set(key, state);
    let outcome: JitsiJoin['outcome'];
    if (moderator) {
      outcome = state.started ? 'joined' : 'started';
      if (!state.started) Object.assign(state, { started: true, startedAt: new Date(now()).toISOString() });
      state.moderators += 1;
    } else {
      outcome = state.started ? 'joined' : 'waiting';
      state.guests += 1;
    }
    const join: JitsiJoin = { room: key, ...(tenant ? { tenant } : {}), userId: String(user.id ?? ''), name: String(user.name ?? ''), moderator, outcome, at: new Date(now()).toISOString() };
    joins.push(join);
    return { join, state };
  }

  const handle = (tenantOf: (params: Record<string, string>) => string | undefined) => async (req: FastifyRequest, reply: FastifyReply) => {
    const params = req.params as Record<string, string>;
    try {
      const { join, state } = await enter(req, params.room!, tenantOf(params));
      const body = { room: join.room, role: join.moderator ? 'moderator' : 'guest', state: join.outcome, user: { id: join.userId, name: join.name }, roomStarted: state.started };
      if (wantsHtml(req)) {
        const text = join.outcome === 'waiting' ? 'Waiting for the host to start the meeting…' : `In the meeting ${join.room} as ${join.moderator ? 'moderator' : 'guest'}`;
        return reply.type('text/html').send(`<!doctype html><title>Jitsi (simulated)</title><p>${escapeHtml(text)}</p>`);
      }
      return reply.send(body);
    } catch (err) {
      if (!(err instanceof Refused)) throw err;
      refusals.push({ path: req.url.split('?')[0]!, status: err.status, reason: err.reason, at: new Date(now()).toISOString() });
      return reply.code(err.status).send({ error: err.reason });
    }
  };

  // Simulator-only routes first (static routes win over parametric ones in any case).
  app.get('/_sim/joins', async (req) => {
    const room = asRecord(req.query).room;
    return { joins: typeof room === 'string' ? joins.filter((j) => j.room === room.toLowerCase()) : joins, refusals };
  });
  app.get('/_sim/rooms/:room', async (req, reply) => {
    const state = rooms.get((req.params as { room: string }).room.toLowerCase());
    return state ? state : reply.code(404).send({ error: 'no such room (nobody joined it)' });
  });
  app.post('/_sim/clock', async (req, reply) => {
    const body = asRecord(req.body);
    if (typeof body.now === 'string' && !Number.isNaN(Date.parse(body.now))) clockOffsetMs = Date.parse(body.now) - Date.now();
    else if (typeof body.advanceMs === 'number' && Number.isFinite(body.advanceMs)) clockOffsetMs += body.advanceMs;
    else return reply.code(400).send({ error: 'give now (an ISO instant) or advanceMs (a number)' });
    return { now: new Date(now()).toISOString() };
  });
  app.post('/_sim/reset', async () => {
    reset();
    return { ok: true };
  });
  app.get('/:room', handle(() => undefined));
  app.get('/:tenant/:room', handle((p) => p.tenant));

  function reset() {
    joins = [];
    refusals = [];
    rooms = new Map();
    clockOffsetMs = 0;
  }

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
    get joins() {
      return [...joins];
    },
    get refusals() {
      return [...refusals];
    },
    room: (name: string) => {
      const state = rooms.get(name.toLowerCase());
      return state ? { ...state } : undefined;
    },
    now,
    setNow(ms: number) {
      clockOffsetMs = ms - Date.now();
    },
    advanceClock(ms: number) {
      clockOffsetMs += ms;
    },
    reset,
  };
}
