import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { createJitsiSimulator, type JitsiSimulator } from './jitsi';

const APP_ID = 'cryptocare';
const SECRET = 'jitsi-simulator-test-secret-32chars';
const ROOM = 'CryptoCare-room1';

/** A token as a self-hosted deployment takes it; `claims` override or remove (undefined) any claim. */
async function token(claims: Partial<Record<string, unknown>> = {}, key: Uint8Array = new TextEncoder().encode(SECRET)) {
  const nowS = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    aud: 'jitsi',
    iss: APP_ID,
    sub: '127.0.0.1',
    room: ROOM,
    nbf: nowS - 60,
    exp: nowS + 3600,
    context: { user: { id: 'u1', name: 'Patient', moderator: 'false' } },
    ...claims,
  };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return new SignJWT(payload as JWTPayload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(key);
}
const moderator = { context: { user: { id: 'p1', name: 'Professional', moderator: 'true' } } };

describe('Jitsi simulator (self-hosted, HS256)', () => {
  let sim: JitsiSimulator;
  let base: string;
  const enter = async (jwt: string | undefined, path = `/${ROOM}`) => {
    const res = await fetch(`${base}${path}${jwt === undefined ? '' : `?jwt=${encodeURIComponent(jwt)}`}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    sim = createJitsiSimulator({ appId: APP_ID, appSecret: SECRET });
    base = await sim.listen();
  });
  afterAll(() => sim.close());
  beforeEach(() => sim.reset());

  it('refuses a missing, badly signed, expired, not yet valid, foreign or other-room token, and records no join', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const cases: Array<[string | undefined, number, string]> = [
      [undefined, 401, 'token_required'],
      ['not.a.jwt', 401, 'invalid_token'],
      [await token({}, new TextEncoder().encode(`${SECRET}-other`)), 401, 'invalid_signature'],
      [await token({ exp: nowS - 1 }), 401, 'token_expired'],
      [await token({ nbf: nowS + 600 }), 401, 'token_not_yet_valid'],
      [await token({ aud: 'zoom' }), 401, 'invalid_token'],
      [await token({ iss: 'someone-else' }), 401, 'invalid_token'],
      [await token({ exp: undefined }), 401, 'invalid_token'],
      [await token({ context: { user: { id: 1, name: 'x' } } }), 401, 'invalid_token'],
      [await token({ room: 'CryptoCare-other' }), 403, 'wrong_room'],
      [await token({ sub: 'other.example' }), 403, 'wrong_tenant'],
    ];
    for (const [jwt, status, reason] of cases) expect({ reason, ...(await enter(jwt)) }).toEqual({ reason, status, body: { error: reason } });
    expect(sim.joins).toEqual([]);
    expect(sim.room(ROOM)).toBeUndefined();
    expect(sim.refusals.map((r) => r.reason)).toEqual(cases.map((c) => c[2]));
  });

  it('a room starts only when a moderator joins: a guest before waits, a guest after joins', async () => {
    expect((await enter(await token())).body).toMatchObject({ role: 'guest', state: 'waiting', roomStarted: false });
    expect((await enter(await token(moderator))).body).toMatchObject({ role: 'moderator', state: 'started', roomStarted: true });
    expect((await enter(await token())).body).toMatchObject({ role: 'guest', state: 'joined', roomStarted: true });
    // affiliation "owner" (self-hosted prosody) makes a moderator too; the room name is case-insensitive.
    expect((await enter(await token({ context: { user: { id: 'p2', name: 'P', affiliation: 'owner' } } }), `/${ROOM.toUpperCase()}`)).body).toMatchObject({ role: 'moderator', state: 'joined' });

    const joins = (await (await fetch(`${base}/_sim/joins?room=${ROOM}`)).json()) as { joins: Array<{ outcome: string; moderator: boolean; userId: string }> };
    expect(joins.joins.map((j) => [j.userId, j.moderator, j.outcome])).toEqual([
      ['u1', false, 'waiting'],
      ['p1', true, 'started'],
      ['u1', false, 'joined'],
      ['p2', true, 'joined'],
    ]);
    expect(await (await fetch(`${base}/_sim/rooms/${ROOM}`)).json()).toMatchObject({ started: true, moderators: 2, guests: 2 });
    expect((await fetch(`${base}/_sim/rooms/CryptoCare-nobody`)).status).toBe(404);
  });

  it('judges validity on its own clock (/_sim/clock), so a test can step past a token’s window', async () => {
    const jwt = await token();
    expect((await enter(jwt)).status).toBe(200);
    const moved = await fetch(`${base}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advanceMs: 2 * 3_600_000 }) });
    expect(moved.status).toBe(200);
    expect(await enter(jwt)).toEqual({ status: 401, body: { error: 'token_expired' } });
    sim.advanceClock(-3 * 3_600_000);
    expect(await enter(jwt)).toEqual({ status: 401, body: { error: 'token_not_yet_valid' } });
    expect((await fetch(`${base}/_sim/clock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
  });
});

describe('Jitsi simulator (JaaS, RS256 by kid, rooms under the tenant)', () => {
  const tenant = 'vpaas-magic-cookie-0123abcd';
  const kid = `${tenant}/k1`;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let sim: JitsiSimulator;
  let base: string;

  beforeAll(async () => {
    sim = createJitsiSimulator({ appId: tenant, publicKeys: { [kid]: publicKey.export({ type: 'spki', format: 'pem' }).toString() } });
    base = await sim.listen();
  });
  afterAll(() => sim.close());

  const jaasToken = (headerKid: string, sub = tenant) =>
    new SignJWT({ room: ROOM, context: { user: { id: 'p1', name: 'Professional', moderator: 'true' } } })
      .setProtectedHeader({ alg: 'RS256', kid: headerKid, typ: 'JWT' })
      .setAudience('jitsi')
      .setIssuer('chat')
      .setSubject(sub)
      .setNotBefore('-1m')
      .setExpirationTime('1h')
      .sign(privateKey);

  it('takes a token signed by the key its kid names, for this tenant only', async () => {
    const ok = await fetch(`${base}/${tenant}/${ROOM}?jwt=${await jaasToken(kid)}`);
    expect({ status: ok.status, body: await ok.json() }).toMatchObject({ status: 200, body: { role: 'moderator', state: 'started' } });
    expect((await fetch(`${base}/${tenant}/${ROOM}?jwt=${await jaasToken(`${tenant}/unknown`)}`)).status).toBe(401);
    expect((await fetch(`${base}/vpaas-magic-cookie-other/${ROOM}?jwt=${await jaasToken(kid)}`)).status).toBe(403);
    expect(sim.joins).toHaveLength(1);
  });
});
