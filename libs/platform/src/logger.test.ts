import { Writable } from 'node:stream';
import { createLogger } from './logger';

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
