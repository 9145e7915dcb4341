import { Writable } from 'node:stream';
import { createAccessLogger, createLogger, safeUrl } from './logger';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logger redaction', () => {
  it('never writes passwords, tokens, emails or provider secrets', () => {
    const { lines, stream } = capture();
    const log = createLogger('identity', 'info', stream);
    log.info(
      {
        body: { email: 'alice@example.ch', password: 'hunter2-secret', displayName: 'Alice Muster' },
        tokens: { accessToken: 'eyJhbGciOi.access', refreshToken: 'rt-opaque-123' },
        req: { headers: { authorization: 'Bearer eyJhbGciOi.access', 'api-key': 'sbp-key-9' } },
        zoom: { clientSecret: 'zoom-secret', startUrl: 'https://zoom.us/s/host' },
      },
      'register',
    );
    const out = lines.join('');
    for (const secret of ['alice@example.ch', 'hunter2-secret', 'Alice Muster', 'eyJhbGciOi.access', 'rt-opaque-123', 'sbp-key-9', 'zoom-secret', 'zoom.us/s/host']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('[redacted]');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 'identity', level: 'info', msg: 'register' });
  });
});

describe('access logger', () => {
  it('writes the request line it is given, with the query values redacted by safeUrl and an email typed into a path masked', () => {
    const { lines, stream } = capture();
    const log = createAccessLogger('gateway', 'info', stream);
    log.info({ reqId: 'r-1', req: { method: 'GET', url: safeUrl('/v1/people/bob@example.ch?access_token=t-123&q=x'), route: 'unmatched' }, res: { statusCode: 404 }, responseTime: 1.2 }, 'request completed');
    const out = lines.join('');
    expect(out).not.toContain('t-123');
    expect(out).not.toContain('bob@example.ch');
    expect(JSON.parse(out)).toMatchObject({ level: 'info', service: 'gateway', reqId: 'r-1', req: { method: 'GET', url: '/v1/people/[email]?access_token=[redacted]&q=[redacted]' }, res: { statusCode: 404 }, msg: 'request completed' });
  });

  it('writes nothing below its level', () => {
    const { lines, stream } = capture();
    createAccessLogger('gateway', 'warn', stream).info({ reqId: 'r-2' }, 'request completed');
    expect(lines).toEqual([]);
  });
});
