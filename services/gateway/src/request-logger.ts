import type { FastifyBaseLogger, FastifyLogFn } from 'fastify';

type Bindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildLoggerOptions = Parameters<FastifyBaseLogger['child']>[1];

/**
 * Fastify gives every request its own logger (`request.log`, bound to the request id). A pino
 * child costs its bindings run through the process logger's redaction (some 80 paths): about 2 %
 * of the gateway's CPU under load (bench/profile.ts, production runtime), for a logger that most
 * requests never use (the access line has its own logger). So the child is made on the first line
 * a request logs, with the same bindings and options; until then nothing is allocated but this.
 */
export function lazyRequestLogger(parent: FastifyBaseLogger, bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
  let made: FastifyBaseLogger | undefined;
  const child = () => (made ??= parent.child(bindings, options));
  const level = (name: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'): FastifyLogFn =>
    ((...args: unknown[]) => (child()[name] as (...a: unknown[]) => void)(...args)) as FastifyLogFn;
  return {
    get level() {
      return child().level;
    },
    set level(value: string) {
      child().level = value;
    },
    fatal: level('fatal'),
    error: level('error'),
    warn: level('warn'),
    info: level('info'),
    debug: level('debug'),
    trace: level('trace'),
    silent: level('silent'),
    child: (more, moreOptions) => child().child(more, moreOptions),
  };
}
