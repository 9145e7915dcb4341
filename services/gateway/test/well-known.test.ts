import { standInGateway } from './support/stand-in-gateway';

describe('GET /.well-known/jwks.json', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  const publicKey = { kty: 'EC', crv: 'P-256', x: 'x-coordinate', y: 'y-coordinate', kid: 'k-1', alg: 'ES256', use: 'sig' };

  beforeAll(async () => {
    g = await standInGateway();
    // identity answers; a private member slipped into its answer must never go out.
    g.behaviour['identity.getJwks'] = async () => ({ jwksJson: JSON.stringify({ keys: [{ ...publicKey, d: 'private-scalar' }] }), issuer: 'https://test.cryptocare' });
  });
  afterAll(() => g.close());

  it('serves identity public keys only, without authentication, cacheable with an ETag', async () => {
    const res = await g.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(res.json()).toEqual({ keys: [publicKey] });
    expect(res.body).not.toContain('private-scalar');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await g.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    const again = await g.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'if-none-match': first.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(first.headers.etag);
    const other = await g.app.inject({ method: 'GET', url: '/.well-known/jwks.json', headers: { 'if-none-match': '"something-else"' } });
    expect(other.statusCode).toBe(200);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await g.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { responses?: Record<string, unknown>; security?: unknown } }> };
    const op = doc.paths['/.well-known/jwks.json']?.get;
    expect(op).toBeDefined();
    expect(op!.security).toBeUndefined();
    expect(Object.keys(op!.responses ?? {})).toEqual(expect.arrayContaining(['200', '304']));
  });
});
