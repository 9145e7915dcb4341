import { context, propagation, trace, type Context } from '@opentelemetry/api';

/**
 * W3C trace context across asynchronous hops (outbox → Kafka → consumer). Without an installed
 * OpenTelemetry SDK these are no-ops that return empty strings.
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

export const tracer = (name: string) => trace.getTracer(name);
