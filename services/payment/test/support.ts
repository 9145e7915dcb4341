// Helpers for payment's integration tests: a service instance on its own schema and bus, the events
// it publishes, and the webhooks a provider simulator sends (the tests forward them to
// IngestWebhook as the gateway will).
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import pg from 'pg';
import { events, payment } from '@cryptocare/contracts';
import { createGrpcClient, type GrpcClient } from '@cryptocare/platform';
import { decodeEnvelope, encodeEnvelope, InProcessBus, newEvent, topicOf, type DomainEvent } from '@cryptocare/events';
import type { ReceivedWebhook } from '@cryptocare/simulators';
import { infraUrls, migratedSchema } from '@cryptocare/testing';
import { main } from '../src/main';

export interface PaymentInstance {
  schema: string;
  bus: InProcessBus;
  client: GrpcClient<typeof payment, 'PaymentService'>;
  /** Everything published on payment.events.v1, decoded. */
  published: DomainEvent[];
  db: pg.Pool;
  publish<T extends events.EventType>(type: T, subject: string, data: events.EventData<T>): Promise<void>;
  /** Events of one type about one appointment. */
  eventsOf<T extends events.EventType>(type: T, appointmentId: string): Array<DomainEvent<T>>;
  stop(): Promise<void>;
}

export async function startPayment(env: Record<string, string>): Promise<PaymentInstance> {
  const schema = await migratedSchema('payment');
  const bus = new InProcessBus(50);
  const published: DomainEvent[] = [];
  await bus.subscribe({
    groupId: 'observer',
    topics: [events.topics.payment],
    handle: async (m) => {
      const e = decodeEnvelope(m.value);
      if ('type' in e) published.push(e);
    },
  });
  const service = await main(
    {
      DATABASE_URL: infraUrls().databaseUrl,
      DATABASE_SCHEMA: schema,
      GRPC_PORT: '0',
      HTTP_PORT: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      NODE_ENV: 'test',
      ...env,
    },
    { bus },
  );
  const client = createGrpcClient(payment, 'PaymentService', `127.0.0.1:${service.grpcPort}`, { deadlineMs: 10_000 });
  const db = new pg.Pool({ connectionString: infraUrls().databaseUrl, max: 2 });
  return {
    schema,
    bus,
    client,
    published,
    db,
    async publish(type, subject, data) {
      const event = newEvent(type.slice(0, type.indexOf('.')), type, subject, data);
      await bus.publish(topicOf(type), [{ key: subject, value: encodeEnvelope(event), headers: { 'event-id': event.id, 'event-type': type } }]);
    },
    eventsOf(type, appointmentId) {
      return published.filter((e) => e.type === type && (e.data as { appointmentId?: string }).appointmentId === appointmentId) as never;
    },
    async stop() {
      client.close();
      await service.stop();
      await db.end();
    },
  };
}

/** A webhook as the gateway hands it over: the raw bytes and the headers as strings. */
export function forwarded(provider: string, hook: ReceivedWebhook) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(hook.headers as IncomingHttpHeaders)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  return { provider, rawBody: hook.rawBody, headers };
}

export const newId = () => randomUUID();

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An invoice request for a booking held for `holdMinutes`. */
export function invoiceRequest(appointmentId = newId(), patientId = newId(), holdMinutes = 60, amount = '120.00', currency = 'CHF') {
  return { appointmentId, patientId, price: { amount, currency }, holdExpiresAt: new Date(Date.now() + holdMinutes * 60_000).toISOString() };
}
