import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Link, type Span } from '@opentelemetry/api';

/**
 * W3C trace context across asynchronous hops (outbox → Kafka → consumer). Without an installed
 * OpenTelemetry SDK (telemetry.ts: off unless OTEL_* asks for it) these are no-ops that return
 * empty strings and record nothing.
 */
export function currentTraceparent(): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? '';
}

export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return context.active();
  return propagation.extract(context.active(), { traceparent });
}

/** The context carried by message headers (traceparent, tracestate, baggage), from the root. */
export function contextFromHeaders(headers: Record<string, string | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}

/** Writes the context's traceparent (and tracestate, baggage) into message headers. */
export function injectHeaders(ctx: Context, headers: Record<string, string>): Record<string, string> {
  propagation.inject(ctx, headers);
  return headers;
}

export const tracer = (name: string) => trace.getTracer(name);

/** The id of the trace active now ('' outside a trace or without the SDK). */
export function currentTraceId(): string {
  const ctx = trace.getSpanContext(context.active());
  return ctx && trace.isSpanContextValid(ctx) ? ctx.traceId : '';
}

/** Marks a span failed with the error, without rethrowing. */
export function recordFailure(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

/**
 * Runs `fn` in a new span that continues a stored trace (e.g. the booking's traceparent kept with
 * a record) and links to the trace active now (e.g. a provider webhook, which starts its own): so
 * work triggered from outside still lands in the trace of the booking it belongs to.
 */
export async function continueTrace<T>(name: string, storedTraceparent: string | null | undefined, fn: (span: Span) => Promise<T>): Promise<T> {
  const trigger = trace.getSpanContext(context.active());
  const links: Link[] = trigger && trace.isSpanContextValid(trigger) ? [{ context: trigger }] : [];
  const parent = storedTraceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: storedTraceparent }) : context.active();
  const span = trace.getTracer('@cryptocare/platform').startSpan(name, { kind: SpanKind.INTERNAL, links }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    recordFailure(span, err);
    throw err;
  } finally {
    span.end();
  }
}
