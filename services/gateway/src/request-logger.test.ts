import { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { createLogger } from '@cryptocare/platform';
import { lazyRequestLogger } from './request-logger';

function captured() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  const logger = createLogger('gateway', 'info', stream) as unknown as FastifyBaseLogger;
  return { lines, logger };
}

async function appWith(logger: FastifyBaseLogger) {
  const app = Fastify({ loggerInstance: logger, logController: new LogController({ disableRequestLogging: true }), childLoggerFactory: lazyRequestLogger, genReqId: () => 'req-1' });
  app.get('/quiet', async () => ({ ok: true }));
  app.get('/logs', async (request) => {
    request.log.warn({ password: 'hunter2-secret', detail: 'x' }, 'something odd');
    request.log.child({ step: 'inner' }).error('inner failure');
    return { ok: true };
  });
  await app.ready();
  // Fastify made its own children of the logger while building; from here, those of the requests
  // (pino children inherit child() from their parent, so the inner one counts too).
  const child = jest.spyOn(logger, 'child');
  return { app, child };
}

describe('lazyRequestLogger: a request logger made on its first line', () => {
  it('makes no pino child for a request that logs nothing', async () => {
    const { logger, lines } = captured();
    const { app, child } = await appWith(logger);
    for (let i = 0; i < 5; i++) expect((await app.inject({ method: 'GET', url: '/quiet' })).statusCode).toBe(200);
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    await app.close();
  });

  it('writes what a request logs with its request id, through the redaction, once per request', async () => {
    const { logger, lines } = captured();
    const { app, child } = await appWith(logger);
    expect((await app.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(200);
    expect(child.mock.calls.map(([bindings]) => bindings)).toEqual([{ reqId: 'req-1' }, { step: 'inner' }]);
    expect(lines).toEqual([
      expect.objectContaining({ level: 'warn', reqId: 'req-1', msg: 'something odd', password: '[redacted]', detail: 'x' }),
      expect.objectContaining({ level: 'error', reqId: 'req-1', step: 'inner', msg: 'inner failure' }),
    ]);
    await app.close();
  });

  it('reads and sets the level of the child it stands for', () => {
    const { logger } = captured();
    const log = lazyRequestLogger(logger, { reqId: 'r' }, {});
    expect(log.level).toBe('info');
    log.level = 'error';
    log.warn('dropped');
    expect(log.level).toBe('error');
    expect(logger.level).toBe('info');
  });
});
