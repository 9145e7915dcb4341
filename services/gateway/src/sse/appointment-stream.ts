import type { Logger } from 'pino';
import { decodeEnvelope, type EventBus, type Subscription } from '@cryptocare/events';
import { events } from '@cryptocare/contracts';

/** The names a client sees on GET /v1/appointments/{id}/events, in saga order. */
export const streamEventNames = ['invoice_ready', 'payment_seen', 'confirmed', 'meeting_ready', 'expired', 'cancelled'] as const;
export type StreamEventName = (typeof streamEventNames)[number];

/**
 * The SSE `id:` of an event: its place in saga order (1 = invoice_ready … 6 = cancelled). A
 * booking sees each of them at most once and a stream sends them in increasing order, so the
 * last id a client saw says exactly what it has: a reconnect with `Last-Event-ID: n` gets only
 * the events after n.
 */
export const streamEventId = (name: StreamEventName): number => streamEventNames.indexOf(name) + 1;

/** A `Last-Event-ID` as the number of the last event seen (0: none, or not one of ours). */
export function parseLastEventId(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,2}$/.test(raw.trim())) return 0;
  const n = Number(raw.trim());
  return n <= streamEventNames.length ? n : 0;
}

export interface StreamEvent {
  name: StreamEventName;
  appointmentId: string;
  data: Record<string, unknown>;
}

type Listener = (event: StreamEvent) => void;

function toStreamEvent(value: Buffer): StreamEvent | undefined {
  const event = decodeEnvelope(value);
  if (!('type' in event)) return undefined;
  switch (event.type) {
    case 'payment.invoice_created':
      return { name: 'invoice_ready', appointmentId: event.data.appointmentId, data: { invoiceId: event.data.invoiceId } };
    case 'payment.payment_seen':
      return { name: 'payment_seen', appointmentId: event.data.appointmentId, data: { invoiceId: event.data.invoiceId } };
    case 'appointment.confirmed':
      return { name: 'confirmed', appointmentId: event.data.appointmentId, data: {} };
    case 'appointment.meeting_ready':
      return { name: 'meeting_ready', appointmentId: event.data.appointmentId, data: { joinUrl: event.data.joinUrl, provider: event.data.provider } };
    case 'appointment.expired':
      return { name: 'expired', appointmentId: event.data.appointmentId, data: {} };
    case 'appointment.cancelled':
      return { name: 'cancelled', appointmentId: event.data.appointmentId, data: { reason: event.data.reason } };
    default:
      return undefined;
  }
}

/**
 * Fans booking events out to the SSE connections of this gateway replica. Every replica has its
 * own consumer group (it must see every event, its clients may be watching any booking) and
 * starts at the newest offset; what happened before a client connected comes from a snapshot.
 */
export class AppointmentStream {
  private readonly listeners = new Map<string, Set<Listener>>();
  private subscription: Subscription | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly groupId: string,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscription = await this.bus.subscribe({
      groupId: this.groupId,
      topics: [events.topics.appointment, events.topics.payment],
      fromBeginning: false,
      handle: async (message) => {
        const event = toStreamEvent(message.value);
        if (!event) return;
        for (const listener of this.listeners.get(event.appointmentId) ?? []) {
          try {
            listener(event);
          } catch (err) {
            this.logger.warn({ err }, 'SSE listener failed');
          }
        }
      },
    });
  }

  listen(appointmentId: string, listener: Listener): () => void {
    const set = this.listeners.get(appointmentId) ?? new Set();
    set.add(listener);
    this.listeners.set(appointmentId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(appointmentId);
    };
  }

  connections(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}
