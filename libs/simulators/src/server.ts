// Plumbing shared by the simulators: a Fastify instance with lenient body parsing, listen/close, artificial latency.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

export interface SimulatorServer {
  app: FastifyInstance;
  /** Starts listening; resolves to the base URL, e.g. http://127.0.0.1:43123. */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
  /** The listening base URL (undefined before listen()). */
  readonly baseUrl: string | undefined;
  /** Adds this many milliseconds before every request is handled (0 = off). */
  setLatencyMs(ms: number): void;
  /**
   * A provider outage: for the next `forMs` milliseconds every API request is answered `status`
   * (default 503) with no effect. Simulator-only routes (see exemptFromOutage) keep working.
   */
  failFor(forMs: number, status?: number): void;
  /** Paths (matched on the URL) an outage does not touch: the simulator's own payer-side routes. */
  exemptFromOutage(pattern: RegExp): void;
  /** Registers a cleanup to run on close (timers, in-flight webhooks). */
  onClose(fn: () => void | Promise<void>): void;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function createServer(opts: { logger?: boolean } = {}): SimulatorServer {
  const app = Fastify({ logger: opts.logger ?? false });
  let baseUrl: string | undefined;
  let latencyMs = 0;
  let outage: { until: number; status: number } | undefined;
  const exempt: RegExp[] = [];
  const cleanups: (() => void | Promise<void>)[] = [];

  // JSON with an empty body is accepted (clients often POST with a JSON content type and no body).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      const err = Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 });
      done(err, undefined);
    }
  });
  // HTML forms (the checkout pages' Pay buttons) and OAuth token requests.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    done(null, Object.fromEntries(new URLSearchParams(text)));
  });
  // Anything else is kept as a string rather than answered 415.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (req, reply) => {
    if (latencyMs > 0) await sleep(latencyMs);
    if (outage && Date.now() < outage.until && !exempt.some((p) => p.test(req.url))) {
      return reply.code(outage.status).send({ message: 'Service temporarily unavailable (simulated outage)' });
    }
  });

  return {
    app,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      if (!address || typeof address === 'string') throw new Error('simulator: unexpected listen address');
      const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
      baseUrl = `http://${shownHost}:${address.port}`;
      return baseUrl;
    },
    async close() {
      for (const fn of cleanups.splice(0)) await fn();
      // Idle keep-alive connections (e.g. of an aborted client) would hold close() for a minute.
      app.server.closeAllConnections();
      await app.close();
    },
    get baseUrl() {
      return baseUrl;
    },
    setLatencyMs(ms: number) {
      latencyMs = Math.max(0, ms);
    },
    failFor(forMs: number, status = 503) {
      outage = forMs > 0 ? { until: Date.now() + forMs, status } : undefined;
    },
    exemptFromOutage(pattern: RegExp) {
      exempt.push(pattern);
    },
    onClose(fn) {
      cleanups.push(fn);
    },
  };
}

/** The externally visible base URL: configured, else the listening URL, else derived from the request. */
export function publicBase(configured: string | undefined, server: SimulatorServer, req?: FastifyRequest): string {
  if (configured) return configured.replace(/\/+$/, '');
  if (server.baseUrl) return server.baseUrl;
  if (req?.headers.host) return `${req.protocol}://${req.headers.host}`;
  return 'http://127.0.0.1';
}

export function wantsHtml(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
}

export function isFormPost(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function asRecord(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** Runs `fn` after `ms` without keeping the process alive; returns a canceller. */
export function unrefTimeout(fn: () => void, ms: number): () => void {
  const timer = setTimeout(fn, Math.min(Math.max(0, ms), 2_147_483_647));
  timer.unref();
  return () => clearTimeout(timer);
}
