import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { ACCESS_LOG_CHUNK_BYTES, bufferedStdout, createAccessLogger, createLogger, safeUrl } from './logger';

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

describe('access log buffer', () => {
  const tempFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'access-log-')), 'out.log');
  const linesIn = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

  it('writes lines in chunks, not one write per line, and what is left after its flush interval', async () => {
    const file = tempFile();
    const destination = bufferedStdout(openSync(file, 'a'), 200);
    try {
      const log = createAccessLogger('gateway', 'info', destination);
      for (let i = 0; i < 3; i++) log.info({ reqId: `r-${i}` }, 'request completed');
      // Less than a chunk: still in the buffer (a synchronous logger would have written three lines).
      expect(linesIn(file)).toEqual([]);
      const started = Date.now();
      while (linesIn(file).length < 3 && Date.now() - started < 5_000) await new Promise((r) => setTimeout(r, 20));
      expect(linesIn(file).map((l) => JSON.parse(l).reqId)).toEqual(['r-0', 'r-1', 'r-2']);
      // A chunk's worth leaves at once, without waiting for the interval.
      const before = linesIn(file).length;
      const padding = 'x'.repeat(200);
      const many = Math.ceil(ACCESS_LOG_CHUNK_BYTES / 200) + 1;
      for (let i = 0; i < many; i++) log.info({ reqId: `c-${i}`, padding }, 'request completed');
      const chunkStarted = Date.now();
      while (linesIn(file).length === before && Date.now() - chunkStarted < 150) await new Promise((r) => setImmediate(r));
      expect(linesIn(file).length).toBeGreaterThan(before);
    } finally {
      // Closes the file once what it holds is written.
      await new Promise((resolve) => destination.once('close', resolve).end());
    }
  });

  it('loses no line when the process exits right after writing them', () => {
    const file = tempFile();
    const script = `
      const fs = require('node:fs');
      const { bufferedStdout, createAccessLogger } = require(${JSON.stringify(path.join(__dirname, 'logger.ts'))});
      const log = createAccessLogger('gateway', 'info', bufferedStdout(fs.openSync(${JSON.stringify(file)}, 'a'), 60000));
      for (let i = 0; i < 50; i++) log.info({ reqId: 'r-' + i }, 'request completed');
      process.exit(0);`;
    execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { stdio: 'pipe' });
    expect(linesIn(file).map((l) => JSON.parse(l).reqId)).toEqual(Array.from({ length: 50 }, (_, i) => `r-${i}`));
  });
});
