import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths never written to logs: credentials, tokens, secrets and personal data (ARCHITECTURE
 * section 8). Tested in logger.test.ts; extend it when a new sensitive field appears.
 */
export const redactedPaths = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'refreshToken',
  '*.refreshToken',
  'access_token',
  '*.access_token',
  'refresh_token',
  '*.refresh_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["api-key"]',
  'req.headers["sbp-sig"]',
  'headers["api-key"]',
  'headers["sbp-sig"]',
  'email',
  '*.email',
  'displayName',
  '*.displayName',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'clientSecret',
  '*.clientSecret',
  'startUrl',
  '*.startUrl',
  'hostUrl',
  '*.hostUrl',
  'reason',
  '*.reason',
  // one level deeper (e.g. `{ req: { body: { password } } }`)
  '*.*.password',
  '*.*.newPassword',
  '*.*.token',
  '*.*.accessToken',
  '*.*.refreshToken',
  '*.*.email',
  '*.*.authorization',
  '*.*.cookie',
  'cookie',
  '*.cookie',
  'headers.cookie',
  'headers["set-cookie"]',
  '*.headers["set-cookie"]',
  'passwordHash',
  '*.passwordHash',
  'client_secret',
  '*.client_secret',
  'apiSecret',
  '*.apiSecret',
  'webhookSecret',
  '*.webhookSecret',
  'joinUrl',
  '*.joinUrl',
  'rawBody',
  '*.rawBody',
  // driver errors quote the offending row ("Key (email)=(…) already exists")
  'err.detail',
  'err.meta',
  'err.parameters',
];

/**
 * Last line of defence for free text (error messages, third-party log lines): whatever still looks
 * like an email address, a bearer token, a JWT or credentials in a URL is masked in the written line.
 * Each pattern runs only on lines holding a string it cannot match without (an `@`, `eyJ`): most
 * lines hold neither. The email pattern starts only where a run of its characters starts (the
 * lookbehind): from every position inside a run it would scan the rest of the run again, which made
 * it quadratic, 0.5 s for one line quoting 20 000 letters and an `@` (input can reach error
 * messages), and 9 µs for an ordinary 400-character access line. `make bench-log-line`.
 */
const scrubbers: Array<[RegExp, string, needle?: string]> = [
  [/(\/\/)[^/\s:@"]+:[^/\s@"]+@/g, '$1[redacted]@', '@'],
  [/(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[email]', '@'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]'],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[jwt]', 'eyJ'],
];

export function scrubSecrets(line: string): string {
  let out = line;
  for (const [pattern, replacement, needle] of scrubbers) if (!needle || out.includes(needle)) out = out.replace(pattern, replacement);
  return out;
}

/** The path of a URL with its query values masked: they may carry tokens, emails or health data. */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const keys = url
    .slice(q + 1)
    .split('&')
    .filter(Boolean)
    .map((pair) => `${pair.split('=')[0]}=[redacted]`);
  return `${url.slice(0, q)}?${keys.join('&')}`;
}

interface RequestLike {
  method?: string;
  url?: string;
  routeOptions?: { url?: string };
  headers?: Record<string, unknown>;
}

/** Requests are logged by method and path only: no headers, no body, no client address. */
const serializers = {
  req: (req: RequestLike) => ({
    method: req.method,
    url: safeUrl(req.url),
    ...(req.routeOptions?.url ? { route: req.routeOptions.url } : {}),
  }),
};

/** trace_id / span_id of the active span on every line written inside a trace. */
function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  const ctx = span?.spanContext();
  if (!ctx || !isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: ctx.traceFlags.toString(16).padStart(2, '0') };
}

/** What every logger of a process writes: its service, ISO time, the level by name, trace ids, the scrub. */
function lineOptions(service: string, level: string): pino.LoggerOptions {
  return {
    name: service,
    level,
    base: { service },
    mixin: traceFields,
    hooks: { streamWrite: scrubSecrets },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({ ...lineOptions(service, level), redact: { paths: redactedPaths, censor: '[redacted]' }, serializers }, destination);
}

/**
 * The access log: one line per HTTP request, every field built by the caller from what is safe to
 * keep (method, path with its query values redacted by `safeUrl`, route, status, duration, request
 * id) plus the trace ids. Hence no redaction pass: its ~80 paths (wildcards included) made up some
 * 7 % of the gateway's CPU at 2 000 users, when every request wrote two lines through it
 * (fastify's "incoming request" and "request completed"). The free-text scrub still runs on the
 * written line (an email typed into a path is masked).
 */
export function createAccessLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination: pino.DestinationStream = bufferedStdout()): Logger {
  return pino(lineOptions(service, level), destination);
}

/** The access log's buffer: written out when it holds this much, or every ACCESS_LOG_FLUSH_MS. */
export const ACCESS_LOG_CHUNK_BYTES = 4096;
export const ACCESS_LOG_FLUSH_MS = 250;

/**
 * Standard output (or `fd`), buffered: lines leave in chunks of ACCESS_LOG_CHUNK_BYTES, and at least
 * every ACCESS_LOG_FLUSH_MS, each chunk one synchronous write from this thread (lines stay in order);
 * what is left is written when the process exits. Why, for the access log only: one write(2) per
 * request line took about 5 % of the gateway's CPU at 2 000 users (CPU profile of a load run,
 * bench/results/load-2026-12-03-profiled-services.md). The other loggers write each line at once, so
 * that a warning or an error is out before anything else happens. A process killed outright
 * (SIGKILL) loses at most the last quarter-second of access lines. Not `sync: false`: its writes run
 * on libuv's threads, and one still queued there when the process exits is lost.
 */
export function bufferedStdout(fd = 1, flushEveryMs = ACCESS_LOG_FLUSH_MS): ReturnType<typeof pino.destination> {
  const destination = pino.destination({ dest: fd, sync: true, minLength: ACCESS_LOG_CHUNK_BYTES, periodicFlush: flushEveryMs });
  const atExit = () => {
    try {
      destination.flushSync();
    } catch {
      // Ended already (what it held was written then).
    }
  };
  process.once('exit', atExit);
  destination.once('close', () => process.off('exit', atExit));
  return destination;
}
