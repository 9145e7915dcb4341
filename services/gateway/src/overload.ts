// Load shedding: when the gateway is asked for more than it can serve, it answers the excess at once
// with 503 OVERLOADED + Retry-After, so that the requests it accepts keep their latency.
//
// Two signals, the first one decisive:
//  - Requests in flight (a bound, as Envoy's overload manager and most API gateways have): a queue
//    shows here the moment it forms, before the event loop lags, and refusing costs next to nothing.
//    By Little's law the bound is the throughput the backends sustain times the latency we accept,
//    and since the throughput changes, so does the bound (concurrency-limit.ts): MAX_IN_FLIGHT is
//    its ceiling, and it shrinks while served requests miss the plan's objectives (reads 50 ms,
//    writes 200 ms at p95).
//  - Event-loop delay (@fastify/under-pressure): the gateway's own CPU saturated, whatever the cause.
// Routes marked `config: { shed: false }` (liveness) are neither counted nor refused; the long-lived
// event streams (`shed: 'event-loop-only'`) would hold an in-flight slot for minutes, so they are
// not counted, but a new one is refused while the event loop lags.
import type http from 'node:http';
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import underPressure from '@fastify/under-pressure';
import { counter, gauge } from '@cryptocare/platform';
import { ConcurrencyLimit, defaultConcurrencyLimit } from './concurrency-limit';
import { errorBody } from './http-errors';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: never refused under load nor counted in flight (health). 'event-loop-only': not counted
     *  in flight, refused only on event-loop delay (long-lived streams). Unset: both. */
    shed?: false | 'event-loop-only';
    /** The latency this route is held to by the adaptive bound (ms); unset: the plan's read or write
     *  objective. Routes slow by design (a password hash) say so, or they would shrink the bound. */
    latencyObjectiveMs?: number;
  }
}

export type ShedReason = 'in_flight' | 'event_loop_delay';

const shedTotal = counter('http_server_shed_requests_total', 'Requests refused with 503 OVERLOADED, by the signal that refused them', ['reason']);
const inFlightGauge = gauge('http_server_requests_in_flight', 'Requests being served by the gateway (shed-exempt routes excluded)');
const limitGauge = gauge('http_server_in_flight_limit', 'The adaptive bound on requests in flight (concurrency-limit.ts)');

/** The plan's latency objectives (p95) that the adaptive bound holds served requests to. */
const OBJECTIVE_MS = { read: 50, write: 200 };
/** Routes that hash a password (argon2, about 0.3 s of a core by design): within the gateway's 8 s budget. */
export const PASSWORD_HASH_OBJECTIVE_MS = 2_000;

export interface SheddingOptions {
  /** Most requests served at once; the next ones are refused. 0: no bound. */
  maxInFlight: number;
  /** Event-loop delay (ms) beyond which requests are refused. 0: not checked. */
  maxEventLoopDelayMs: number;
  /** Seconds a refused client is told to wait (Retry-After). */
  retryAfterSeconds: number;
}

const shedMode = (request: FastifyRequest) => request.routeOptions.config?.shed;

type RequestListener = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/**
 * Both signals. `gate` wraps the HTTP server's request listener (fastify's serverFactory) and `install`
 * registers the rest on the app (call it first, before rate limits: refusing must stay cheap).
 */
export function createLoadShedding(options: SheddingOptions): { gate: (handler: RequestListener) => RequestListener; install: (app: FastifyInstance) => Promise<void> } {
  const retryAfter = String(options.retryAfterSeconds);
  const refusal = errorBody('OVERLOADED', 'the service is busy, retry shortly');
  const refusedBody = JSON.stringify(refusal);
  const refuse = (reply: FastifyReply, reason: ShedReason) => {
    shedTotal.labels(reason).inc();
    return reply.header('retry-after', retryAfter).status(503).send(refusal);
  };

  let inFlight = 0;
  inFlightGauge.set(0);
  const limit = options.maxInFlight > 0 ? new ConcurrencyLimit({ ...defaultConcurrencyLimit, max: options.maxInFlight }) : undefined;
  // The routes never counted in flight (shed: false or 'event-loop-only'), in a router of their own
  // (fastify's, find-my-way) so the gate knows them before fastify builds the request.
  const uncounted = FindMyWay();

  /**
   * At 5x load nine requests in ten are refused, and refusing them through fastify (request and reply
   * objects, a child logger, every hook, the serialiser) took half a core on its own and delayed the
   * requests accepted behind them. At the bound, the request is refused here, on the bare Node
   * response, before fastify sees it; below the bound, or for a route that is never refused, it goes
   * on, and the onRequest hook below stays the one that counts what is served.
   */
  const gate = (handler: RequestListener): RequestListener => (req, res) => {
    if (limit && inFlight >= limit.limit) {
      if (!uncounted.find((req.method ?? 'GET') as HTTPMethod, req.url ?? '/') && !limit.admits(inFlight)) {
        shedTotal.labels('in_flight').inc();
        limitGauge.set(limit.limit);
        const incoming = req.headers['x-request-id'];
        res.writeHead(503, {
          'content-type': 'application/json; charset=utf-8',
          'content-length': Buffer.byteLength(refusedBody),
          'retry-after': retryAfter,
          'cache-control': 'no-store',
          'x-request-id': typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : crypto.randomUUID(),
        });
        res.end(refusedBody);
        return;
      }
    }
    handler(req, res);
  };

  const install = async (instance: FastifyInstance): Promise<void> => {
    instance.addHook('onRoute', (route) => {
      if (route.config?.shed === undefined) return;
      for (const method of [route.method].flat()) uncounted.on(method as HTTPMethod, route.url, () => undefined);
    });
    instance.addHook('onRequest', async (request, reply) => {
      if (shedMode(request) !== undefined) return;
      if (limit && !limit.admits(inFlight)) {
        limitGauge.set(limit.limit);
        return refuse(reply, 'in_flight');
      }
      inFlight += 1;
      inFlightGauge.set(inFlight);
      const started = performance.now();
      const objective = request.routeOptions.config?.latencyObjectiveMs ?? (request.method === 'GET' || request.method === 'HEAD' ? OBJECTIVE_MS.read : OBJECTIVE_MS.write);
      // 'close' fires once for every response, finished or aborted by the client (onResponse does not
      // run for an abort), so the count cannot leak.
      reply.raw.once('close', () => {
        inFlight -= 1;
        inFlightGauge.set(inFlight);
        if (limit) {
          limit.record(performance.now() - started, objective);
          limitGauge.set(limit.limit);
        }
      });
    });

    await instance.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      retryAfter: options.retryAfterSeconds,
      exposeStatusRoute: false,
      // Returning without sending lets the request through (under-pressure calls next()).
      pressureHandler: (request, reply) => {
        if (shedMode(request) === false) return;
        refuse(reply, 'event_loop_delay');
      },
    });
  };
  return { gate, install };
}
