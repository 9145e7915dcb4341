import { readFileSync } from 'node:fs';
import path from 'node:path';
import { status } from '@grpc/grpc-js';
import { common, identity } from '@cryptocare/contracts';
import { AccessTokenVerifier, createGrpcClient, type GrpcClient } from '@cryptocare/platform';
import { InProcessBus, decodeEnvelope, type BusMessage } from '@cryptocare/events';
import { currentConsents, eventually, infraUrls, migratedSchema } from '@cryptocare/testing';
import pg from 'pg';
import { hashRefreshToken } from '../src/domain/credentials';
import { main } from '../src/main';

describe('identity service (real PostgreSQL)', () => {
  let service: Awaited<ReturnType<typeof main>>;
  let client: GrpcClient<typeof identity, 'IdentityService'>;
  const bus = new InProcessBus();
  const published: BusMessage[] = [];
  let schema: string;

  beforeAll(async () => {
    schema = await migratedSchema('identity');
    await bus.subscribe({ groupId: 'test', topics: ['identity.events.v1'], handle: async (m) => void published.push(m) });
    service = await main(
      // The EU deployment: its users are EU's (CH's are refused, see the data region test below).
      { DATABASE_URL: infraUrls().databaseUrl, DATABASE_SCHEMA: schema, GRPC_PORT: '0', HTTP_PORT: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', NODE_ENV: 'test', DATA_REGION: 'eu' },
      { bus },
    );
    client = createGrpcClient(identity, 'IdentityService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await service.stop();
  });

  const register = (email: string, role = identity.Role.ROLE_PATIENT) =>
    client.register({ email, password: 'correct horse battery', role, displayName: 'Alice', region: common.Region.REGION_EU, consents: currentConsents() });

  it('registers a user, publishes identity.user_registered and issues tokens every process can verify', async () => {
    const { user, tokens } = await register('Alice@Example.ch');
    expect(user).toMatchObject({ email: 'alice@example.ch', role: identity.Role.ROLE_PATIENT, region: common.Region.REGION_EU });
    const verifier = new AccessTokenVerifier(async () => {
      const { jwksJson, issuer } = await client.getJwks({});
      return { jwks: JSON.parse(jwksJson), issuer };
    });
    // The token names its sign-in (sid), which sign-out and erasure revoke, and the user's data region.
    await expect(verifier.verify(tokens!.accessToken)).resolves.toEqual({ userId: user!.id, role: 'patient', sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/), issuedAt: expect.any(Number), region: 'EU' });
    await expect(verifier.verify(tokens!.accessToken + 'x')).rejects.toMatchObject({ code: 'INVALID_TOKEN' });
    const event = await eventually(async () => published.map((m) => decodeEnvelope(m.value)).find((e) => 'type' in e && e.subject === user!.id));
    expect(event).toMatchObject({ type: 'identity.user_registered', data: { userId: user!.id, role: 'patient', region: 'EU' } });
  });

  it('refuses bad input with machine codes and a taken email with EMAIL_TAKEN', async () => {
    await expect(client.register({ email: 'not-an-email', password: 'correct horse battery', role: identity.Role.ROLE_PATIENT, displayName: 'x' })).rejects.toMatchObject({
      status: status.INVALID_ARGUMENT,
      code: 'INVALID_EMAIL',
    });
    await expect(client.register({ email: 'b@example.ch', password: 'short', role: identity.Role.ROLE_PATIENT, displayName: 'x', consents: currentConsents() })).rejects.toMatchObject({ code: 'WEAK_PASSWORD' });
    await expect(client.register({ email: 'c@example.ch', password: 'correct horse battery', role: identity.Role.ROLE_ADMIN, displayName: 'x' })).rejects.toMatchObject({ code: 'INVALID_ROLE' });
    await register('dup@example.ch');
    await expect(register('DUP@example.ch')).rejects.toMatchObject({ status: status.ALREADY_EXISTS, code: 'EMAIL_TAKEN' });
  });

  it("data region: keeps only its region's accounts; another region's sign-up is refused with WRONG_REGION and nothing is written", async () => {
    // Asked for the other region: refused, naming it; the email stays free (no row, no event).
    await expect(client.register({ email: 'swiss@example.ch', password: 'correct horse battery', role: identity.Role.ROLE_PATIENT, displayName: 'S', region: common.Region.REGION_CH })).rejects.toMatchObject({
      status: status.FAILED_PRECONDITION,
      code: 'WRONG_REGION',
      details: { region: 'CH' },
    });
    await expect(client.login({ email: 'swiss@example.ch', password: 'correct horse battery' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    // No region asked: this deployment's, in the account and in its tokens.
    const { user, tokens } = await client.register({ email: 'unsaid@example.ch', password: 'correct horse battery', role: identity.Role.ROLE_PATIENT, displayName: 'U', consents: currentConsents() });
    expect(user?.region).toBe(common.Region.REGION_EU);
    expect(JSON.parse(Buffer.from(tokens!.accessToken.split('.')[1]!, 'base64url').toString())).toMatchObject({ sub: user!.id, region: 'EU' });
    expect(published.map((m) => decodeEnvelope(m.value)).filter((e) => 'type' in e && e.type === 'identity.user_registered' && (e.data as { region?: string }).region === 'CH')).toEqual([]);
    // A row of another region (kept from before the deployment had a region) signs in only there,
    // and only the right password learns that.
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
    try {
      await pool.query(`UPDATE "${schema}".users SET region = 'CH' WHERE id = $1`, [user!.id]);
    } finally {
      await pool.end();
    }
    await expect(client.login({ email: 'unsaid@example.ch', password: 'wrong password!!' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(client.login({ email: 'unsaid@example.ch', password: 'correct horse battery' })).rejects.toMatchObject({ code: 'WRONG_REGION', details: { region: 'CH' } });
  });

  it('logs in with the right password only', async () => {
    await register('login@example.ch', identity.Role.ROLE_PROFESSIONAL);
    const ok = await client.login({ email: 'login@example.ch', password: 'correct horse battery' });
    expect(ok.user?.role).toBe(identity.Role.ROLE_PROFESSIONAL);
    await expect(client.login({ email: 'login@example.ch', password: 'wrong password!!' })).rejects.toMatchObject({ status: status.UNAUTHENTICATED, code: 'INVALID_CREDENTIALS' });
    await expect(client.login({ email: 'nobody@example.ch', password: 'whatever123' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
  });

  it('rotates refresh tokens and revokes the whole family when an old one is reused', async () => {
    const { tokens } = await register('refresh@example.ch');
    const first = tokens!.refreshToken;
    const second = (await client.refresh({ refreshToken: first })).tokens!.refreshToken;
    const third = (await client.refresh({ refreshToken: second })).tokens!.refreshToken;
    expect(new Set([first, second, third]).size).toBe(3);
    // A thief replays the first token: refused, and the legitimate current token dies with it.
    await expect(client.refresh({ refreshToken: first })).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
    await expect(client.refresh({ refreshToken: third })).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });
  });

  it('logout ends the session', async () => {
    const { tokens } = await register('logout@example.ch');
    await client.logout({ refreshToken: tokens!.refreshToken });
    await expect(client.refresh({ refreshToken: tokens!.refreshToken })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
  });
  it('erases an account: no more login or refresh, the other services are told, and twice is harmless', async () => {
    const { user, tokens } = await register('erase@example.ch');
    const first = await client.eraseUser({ userId: user!.id });
    expect(Date.parse(first.erasedAt)).toBeGreaterThan(0);
    await expect(client.login({ email: 'erase@example.ch', password: 'correct horse battery' })).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    await expect(client.refresh({ refreshToken: tokens!.refreshToken })).rejects.toMatchObject({ status: status.UNAUTHENTICATED });
    await expect(client.getUser({ userId: user!.id })).rejects.toMatchObject({ status: status.NOT_FOUND });
    const erased = await eventually(async () => published.map((m) => decodeEnvelope(m.value)).find((e) => 'type' in e && e.type === 'identity.user_erased' && e.subject === user!.id));
    expect(erased).toMatchObject({ data: { userId: user!.id } });
    expect((await client.eraseUser({ userId: user!.id })).erasedAt).toBe(first.erasedAt);
    expect(published.map((m) => decodeEnvelope(m.value)).filter((e) => 'type' in e && e.type === 'identity.user_erased' && e.subject === user!.id)).toHaveLength(1);
    // The address is free again for a new account.
    await expect(register('erase@example.ch')).resolves.toBeDefined();
    await expect(client.eraseUser({ userId: '0192f1a0-0000-7000-8000-00000000dead' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
  });

  it("lists a user's sign-ins for the export, never a token or its hash; erasure deletes them", async () => {
    const { user, tokens } = await register('sessions@example.ch');
    const rotated = (await client.refresh({ refreshToken: tokens!.refreshToken })).tokens!;
    const second = (await client.login({ email: 'sessions@example.ch', password: 'correct horse battery' })).tokens!;
    await client.logout({ refreshToken: rotated.refreshToken });
    const { sessions } = await client.listSessions({ userId: user!.id });
    expect(sessions).toHaveLength(3);
    // The first sign-in: its first token was rotated, both were signed out. The second is open.
    const firstSignIn = sessions.find((s) => s.replacedAt)!.sessionId;
    expect(sessions.filter((s) => s.sessionId === firstSignIn).map((s) => [s.replacedAt !== '', s.revokedAt !== ''])).toEqual([
      [false, true],
      [true, true],
    ]);
    expect(sessions.filter((s) => s.sessionId !== firstSignIn)).toEqual([expect.objectContaining({ replacedAt: '', revokedAt: '' })]);
    for (const s of sessions) expect(Date.parse(s.expiresAt)).toBeGreaterThan(Date.parse(s.createdAt));
    const text = JSON.stringify(sessions);
    for (const token of [tokens!.refreshToken, rotated.refreshToken, second.refreshToken]) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(hashRefreshToken(token));
    }
    await expect(client.listSessions({ userId: 'not-a-uuid' })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });

    await client.eraseUser({ userId: user!.id });
    await expect(client.listSessions({ userId: user!.id })).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    await expect(client.refresh({ refreshToken: second.refreshToken })).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
    try {
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".refresh_tokens WHERE user_id = $1`, [user!.id]);
      expect(rows[0].n).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it("gives a professional or an admin patients' names in one batch (unknown, erased and non-patients left out, at most 100 ids), and records the read once", async () => {
    const named = (email: string, displayName: string, role = identity.Role.ROLE_PATIENT) =>
      client.register({ email, password: 'correct horse battery', role, displayName, region: common.Region.REGION_EU, consents: currentConsents() }).then((r) => r.user!);
    const [ada, bo, gone, pro, colleague] = await Promise.all([
      named('names-ada@example.ch', 'Ada Patient'),
      named('names-bo@example.ch', 'Bo Patient'),
      named('names-gone@example.ch', 'Gone Patient'),
      named('names-pro@example.ch', 'Dr. Names', identity.Role.ROLE_PROFESSIONAL),
      named('names-colleague@example.ch', 'Dr. Colleague', identity.Role.ROLE_PROFESSIONAL),
    ]);
    await client.eraseUser({ userId: gone.id });
    const unknown = '0192f1a0-0000-7000-8000-00000000beef';
    const erasedPlaceholder = '00000000-0000-0000-0000-000000000000';
    const { names } = await client.getDisplayNames({ callerId: pro.id, userIds: [ada.id, bo.id, ada.id.toUpperCase(), gone.id, unknown, erasedPlaceholder, colleague.id] });
    expect(names).toEqual({ [ada.id]: 'Ada Patient', [bo.id]: 'Bo Patient' });
    // An admin too (the role set in the table, as the bootstrap admin has it).
    const { user: admin } = await register('names-admin@example.ch');
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
    try {
      await pool.query(`UPDATE "${schema}".users SET role = 'admin' WHERE id = $1`, [admin!.id]);
    } finally {
      await pool.end();
    }
    expect((await client.getDisplayNames({ callerId: admin!.id, userIds: [bo.id] })).names).toEqual({ [bo.id]: 'Bo Patient' });
    // Nothing to name: an empty answer, and nothing recorded.
    expect((await client.getDisplayNames({ callerId: pro.id, userIds: [gone.id, erasedPlaceholder] })).names).toEqual({});
    expect((await client.getDisplayNames({ callerId: pro.id, userIds: [] })).names).toEqual({});

    // Refused: a patient (or an erased, unknown or missing caller), more than 100 ids, an id that is not a UUID.
    await expect(client.getDisplayNames({ callerId: ada.id, userIds: [bo.id] })).rejects.toMatchObject({ status: status.PERMISSION_DENIED, code: 'NOT_ALLOWED' });
    await expect(client.getDisplayNames({ callerId: gone.id, userIds: [bo.id] })).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(client.getDisplayNames({ callerId: unknown, userIds: [bo.id] })).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(client.getDisplayNames({ callerId: '', userIds: [bo.id] })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_CALLER' });
    const many = Array.from({ length: 101 }, (_, i) => `0192f1a0-0000-7000-8000-${String(i).padStart(12, '0')}`);
    await expect(client.getDisplayNames({ callerId: pro.id, userIds: many })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'TOO_MANY_IDS' });
    expect((await client.getDisplayNames({ callerId: pro.id, userIds: [...many.slice(0, 99), ada.id, ada.id] })).names).toEqual({ [ada.id]: 'Ada Patient' });
    await expect(client.getDisplayNames({ callerId: pro.id, userIds: [bo.id, 'x\u0000'] })).rejects.toMatchObject({ status: status.INVALID_ARGUMENT, code: 'INVALID_ID' });

    // One entry per batch that named someone: the reader, their role and how many names, never a name.
    const read = (actorId: string) => client.listAudit({ callerId: admin!.id, kind: 'patient.names_read', actorId, limit: 10 }).then((r) => r.entries);
    expect((await read(pro.id)).map((e) => e.details)).toEqual([
      { role: 'professional', count: '1' },
      { role: 'professional', count: '2' },
    ]);
    expect((await read(admin!.id)).map((e) => [e.subjectId, e.details])).toEqual([['', { role: 'admin', count: '1' }]]);
    expect(JSON.stringify(await read(pro.id))).not.toContain('Patient');
  });

  it('a repair migration deletes the sign-ins of users erased before erasure deleted them', async () => {
    const { user: gone } = await register('gone-before@example.ch');
    const { user: here } = await register('still-here@example.ch');
    const pool = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 1 });
    try {
      // As the earlier erasure left it: the user erased, the session only revoked.
      await pool.query(`UPDATE "${schema}".users SET email = NULL, password_hash = NULL, display_name = 'Erased user', erased_at = now() WHERE id = $1`, [gone!.id]);
      await pool.query(`UPDATE "${schema}".refresh_tokens SET revoked_at = now() WHERE user_id = $1`, [gone!.id]);
      const sql = readFileSync(path.join(__dirname, '../prisma/migrations/20261201040000_delete_sessions_of_erased_users/migration.sql'), 'utf8');
      await pool.query(`SET search_path TO "${schema}"`);
      await pool.query(sql);
      const { rows } = await pool.query(`SELECT user_id::text, count(*)::int AS n FROM "${schema}".refresh_tokens WHERE user_id = ANY($1::uuid[]) GROUP BY user_id`, [[gone!.id, here!.id]]);
      expect(rows).toEqual([{ user_id: here!.id, n: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
