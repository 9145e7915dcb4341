import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { ConfigError } from '@cryptocare/platform';
import { loadVideoConfig, jitsiSigningFrom } from '../main';
import { JitsiMeetingProvider } from './jitsi';
import { JITSI_TOKEN_CLOSES_AFTER_MS, JITSI_TOKEN_OPENS_BEFORE_MS, JitsiTokens } from './jitsi-tokens';

const SECRET = 'a-self-hosted-app-secret-of-32-chars!';
const startAt = new Date('2030-03-01T09:00:00Z');
const endAt = new Date('2030-03-01T09:30:00Z');
const seat = (moderator: boolean, room = 'CryptoCare-abc') => ({ room, moderator, user: { id: `m1/${moderator ? 'professional' : 'patient'}`, name: moderator ? 'Professional' : 'Patient' }, startAt, endAt });
const at = (ms: number) => new Date(ms);

describe('Jitsi tokens, self-hosted (HS256 with the app secret)', () => {
  const tokens = new JitsiTokens({ kind: 'self-hosted', appId: 'cryptocare', appSecret: SECRET }, 'https://Meet.Example.ch/');
  const key = new TextEncoder().encode(SECRET);

  it('carries the claims prosody checks: aud jitsi, iss the app id, sub the domain, the room, and the seat', async () => {
    const token = await tokens.mint(seat(true), startAt);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256', typ: 'JWT' });
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS256'], audience: 'jitsi', issuer: 'cryptocare', subject: 'meet.example.ch', currentDate: startAt });
    expect(payload).toMatchObject({
      room: 'CryptoCare-abc',
      context: { user: { id: 'm1/professional', name: 'Professional', moderator: 'true', affiliation: 'owner' } },
      iat: startAt.getTime() / 1000,
    });
    const guest = await jwtVerify(await tokens.mint(seat(false), startAt), key, { currentDate: startAt });
    expect(guest.payload.context).toEqual({ user: { id: 'm1/patient', name: 'Patient', moderator: 'false', affiliation: 'member' } });
  });

  it('is valid from 10 minutes before the start to 30 minutes after the end, and not a second outside', async () => {
    const token = await tokens.mint(seat(false), startAt);
    const { payload } = await jwtVerify(token, key, { currentDate: startAt });
    expect(payload.nbf).toBe((startAt.getTime() - JITSI_TOKEN_OPENS_BEFORE_MS) / 1000);
    expect(payload.exp).toBe((endAt.getTime() + JITSI_TOKEN_CLOSES_AFTER_MS) / 1000);
    await expect(jwtVerify(token, key, { currentDate: at(startAt.getTime() - 10 * 60_000) })).resolves.toBeDefined();
    await expect(jwtVerify(token, key, { currentDate: at(startAt.getTime() - 10 * 60_000 - 1_000) })).rejects.toBeInstanceOf(errors.JWTClaimValidationFailed);
    await expect(jwtVerify(token, key, { currentDate: at(endAt.getTime() + 30 * 60_000 - 1_000) })).resolves.toBeDefined();
    await expect(jwtVerify(token, key, { currentDate: at(endAt.getTime() + 30 * 60_000) })).rejects.toBeInstanceOf(errors.JWTExpired);
  });

  it('is refused under another secret', async () => {
    const token = await tokens.mint(seat(true), startAt);
    await expect(jwtVerify(token, new TextEncoder().encode(`${SECRET}x`), { currentDate: startAt })).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it('rooms live at the domain’s root; the link carries the token as ?jwt=', async () => {
    expect(tokens.roomUrl('CryptoCare-abc')).toBe('https://Meet.Example.ch/CryptoCare-abc');
    const link = new URL(await tokens.link(tokens.roomUrl('CryptoCare-abc'), seat(false), startAt));
    expect(`${link.origin}${link.pathname}`).toBe('https://meet.example.ch/CryptoCare-abc');
    expect((await jwtVerify(link.searchParams.get('jwt')!, key, { currentDate: startAt })).payload.room).toBe('CryptoCare-abc');
  });

  it('the provider stores and announces the bare room URL: no token at rest', async () => {
    const meeting = await new JitsiMeetingProvider('https://unused.example', tokens).createMeeting({ topic: 't', startAt, durationMinutes: 30, timeZone: 'UTC' });
    expect(meeting.joinUrl).toMatch(/^https:\/\/Meet\.Example\.ch\/CryptoCare-[a-z2-7]{26}$/);
    expect(meeting.hostUrl).toBe(meeting.joinUrl);
    expect(meeting.joinUrl).not.toContain('jwt');
  });
});

describe('Jitsi tokens, 8x8 JaaS (RS256 with the API key)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appId = 'vpaas-magic-cookie-0123456789abcdef';
  const kid = `${appId}/4f4910`;
  const tokens = new JitsiTokens({ kind: 'jaas', appId, kid, privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, 'https://8x8.vc');

  it('signs RS256 with the key id in the header, iss "chat", sub the app id; rooms under the tenant', async () => {
    const token = await tokens.mint(seat(true), startAt);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid, typ: 'JWT' });
    const { payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], audience: 'jitsi', issuer: 'chat', subject: appId, currentDate: startAt });
    expect(payload).toMatchObject({ room: 'CryptoCare-abc', context: { user: { moderator: 'true' } } });
    expect(tokens.roomUrl('CryptoCare-abc')).toBe(`https://8x8.vc/${appId}/CryptoCare-abc`);
  });

  it('refuses a key that is not RSA', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => new JitsiTokens({ kind: 'jaas', appId, kid, privateKey: ec }, 'https://8x8.vc')).toThrow(/RSA/);
  });
});

describe('Jitsi configuration', () => {
  const base = { DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db', NODE_ENV: 'test' };

  it('takes the self-hosted secret or the JaaS key, and neither (a warning, bare rooms)', () => {
    expect(jitsiSigningFrom(loadVideoConfig({ ...base, JITSI_APP_ID: 'cryptocare', JITSI_APP_SECRET: SECRET }))).toEqual({ kind: 'self-hosted', appId: 'cryptocare', appSecret: SECRET });
    // A PEM given on one line with \n escapes (as some secret stores keep it).
    expect(jitsiSigningFrom(loadVideoConfig({ ...base, JITSI_APP_ID: 'vpaas-magic-cookie-1', JITSI_KID: 'vpaas-magic-cookie-1/ab', JITSI_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nAAA\\n-----END PRIVATE KEY-----' }))).toEqual({
      kind: 'jaas',
      appId: 'vpaas-magic-cookie-1',
      kid: 'vpaas-magic-cookie-1/ab',
      privateKey: '-----BEGIN PRIVATE KEY-----\nAAA\n-----END PRIVATE KEY-----',
    });
    expect(jitsiSigningFrom(loadVideoConfig({ ...base, JITSI_APP_ID: '', JITSI_APP_SECRET: '' }))).toBeUndefined();
  });

  it.each([
    [{ JITSI_APP_SECRET: SECRET }, 'JITSI_APP_ID'],
    [{ JITSI_APP_ID: 'cryptocare' }, 'JITSI_APP_SECRET'],
    [{ JITSI_APP_ID: 'cryptocare', JITSI_APP_SECRET: 'short' }, 'JITSI_APP_SECRET'],
    [{ JITSI_APP_ID: 'cryptocare', JITSI_APP_SECRET: SECRET, JITSI_KID: 'k' }, 'not both'],
    [{ JITSI_APP_ID: 'vpaas-magic-cookie-1', JITSI_KID: 'k' }, 'JITSI_PRIVATE_KEY'],
    [{ JITSI_APP_ID: 'vpaas-magic-cookie-1', JITSI_PRIVATE_KEY: 'pem' }, 'JITSI_KID'],
    [{ JITSI_APP_ID: 'bad id/../x', JITSI_APP_SECRET: SECRET }, 'JITSI_APP_ID'],
  ])('refuses an incomplete or malformed setting %j', (env, named) => {
    expect(() => loadVideoConfig({ ...base, ...env })).toThrow(ConfigError);
    expect(() => loadVideoConfig({ ...base, ...env })).toThrow(named);
  });
});
