import { v7 as uuidv7 } from 'uuid';
import { events } from '@cryptocare/contracts';
import { currentTraceparent } from '@cryptocare/platform';

type EventType = events.EventType;

/** A domain event, decoded: what handlers see. */
export interface DomainEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  source: string;
  subject: string;
  time: string;
  traceparent: string;
  data: events.EventData<T>;
}

export function newEvent<T extends EventType>(source: string, type: T, subject: string, data: events.EventData<T>, now = new Date()): DomainEvent<T> {
  return { id: uuidv7(), type, source, subject, time: now.toISOString(), traceparent: currentTraceparent(), data };
}

export function encodeEnvelope(event: DomainEvent): Buffer {
  const envelope = events.EventEnvelope.fromPartial({
    id: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    time: event.time,
    traceparent: event.traceparent,
    data: Buffer.from(events.encodeEventData(event.type, event.data as never)),
  });
  return Buffer.from(events.EventEnvelope.encode(envelope).finish());
}

/** Any one event, discriminated by `type` (so `switch (event.type)` narrows `data`). */
export type AnyDomainEvent = { [T in EventType]: DomainEvent<T> }[EventType];

/** Decodes a message value; an unknown type (from a newer producer) is reported, not thrown. */
export function decodeEnvelope(value: Uint8Array): AnyDomainEvent | { unknownType: string; id: string } {
  const envelope = events.EventEnvelope.decode(value);
  if (!events.isEventType(envelope.type)) return { unknownType: envelope.type, id: envelope.id };
  return {
    id: envelope.id,
    type: envelope.type,
    source: envelope.source,
    subject: envelope.subject,
    time: envelope.time,
    traceparent: envelope.traceparent,
    data: events.decodeEventData(envelope.type, envelope.data),
  } as AnyDomainEvent;
}

/** The topic each producer's events go to. */
export function topicOf(type: EventType): string {
  if (type === 'payment.webhook_received') return events.topics.paymentWebhooks;
  if (type === 'video.zoom_webhook_received') return events.topics.videoWebhooks;
  const source = type.slice(0, type.indexOf('.')) as keyof typeof events.topics;
  return events.topics[source];
}
