import { EventEnvelope } from './gen/cryptocare/events/v1/envelope';
import { UserErased, UserRegistered } from './gen/cryptocare/events/v1/identity';
import { ProfileUpdated } from './gen/cryptocare/events/v1/search';
import {
  AppointmentCancelled,
  AppointmentCompleted,
  AppointmentConfirmed,
  AppointmentExpired,
  AppointmentHeld,
  AppointmentMeetingReady,
  AppointmentNoShow,
  AppointmentRescheduled,
  AvailabilityChanged,
} from './gen/cryptocare/events/v1/appointment';
import {
  InvoiceCreated,
  PaymentConfirmed,
  PaymentExpired,
  PaymentSeen,
  RefundRequested,
  RefundDestinationSet,
  RefundPaid,
  RefundSent,
  TopUpRequested,
  ProviderSwitched,
  WebhookReceived,
} from './gen/cryptocare/events/v1/payment';
import { ConsultationEnded, MeetingCreated, MeetingDeleted, ZoomWebhookReceived } from './gen/cryptocare/events/v1/video';
import { AuditRecorded } from './gen/cryptocare/events/v1/audit';

export { EventEnvelope };

/** Topic of each producing service (ARCHITECTURE section 5). */
export const topics = {
  identity: 'identity.events.v1',
  search: 'search.events.v1',
  appointment: 'appointment.events.v1',
  payment: 'payment.events.v1',
  video: 'video.events.v1',
  paymentWebhooks: 'payment.webhooks.v1',
  /** Work items of video's Zoom webhook inbox (consumed by video only). */
  videoWebhooks: 'video.webhooks.v1',
  /** Security and data-access events of every service, chained by identity (libs/contracts/src/audit.ts). */
  audit: 'audit.events.v1',
} as const;

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromPartial(object: any): T;
}

/** Every event type and the message its envelope's `data` holds. */
export const eventCodecs = {
  'identity.user_registered': UserRegistered as Codec<UserRegistered>,
  'identity.user_erased': UserErased as Codec<UserErased>,
  'search.profile_updated': ProfileUpdated as Codec<ProfileUpdated>,
  'appointment.held': AppointmentHeld as Codec<AppointmentHeld>,
  'appointment.confirmed': AppointmentConfirmed as Codec<AppointmentConfirmed>,
  'appointment.meeting_ready': AppointmentMeetingReady as Codec<AppointmentMeetingReady>,
  'appointment.cancelled': AppointmentCancelled as Codec<AppointmentCancelled>,
  'appointment.expired': AppointmentExpired as Codec<AppointmentExpired>,
  'appointment.completed': AppointmentCompleted as Codec<AppointmentCompleted>,
  'appointment.no_show': AppointmentNoShow as Codec<AppointmentNoShow>,
  'appointment.rescheduled': AppointmentRescheduled as Codec<AppointmentRescheduled>,
  'appointment.availability_changed': AvailabilityChanged as Codec<AvailabilityChanged>,
  'payment.invoice_created': InvoiceCreated as Codec<InvoiceCreated>,
  'payment.payment_seen': PaymentSeen as Codec<PaymentSeen>,
  'payment.confirmed': PaymentConfirmed as Codec<PaymentConfirmed>,
  'payment.expired': PaymentExpired as Codec<PaymentExpired>,
  'payment.refund_requested': RefundRequested as Codec<RefundRequested>,
  'payment.refund_destination_set': RefundDestinationSet as Codec<RefundDestinationSet>,
  'payment.refund_paid': RefundPaid as Codec<RefundPaid>,
  'payment.refund_sent': RefundSent as Codec<RefundSent>,
  'payment.top_up_requested': TopUpRequested as Codec<TopUpRequested>,
  'payment.provider_switched': ProviderSwitched as Codec<ProviderSwitched>,
  'payment.webhook_received': WebhookReceived as Codec<WebhookReceived>,
  'video.meeting_created': MeetingCreated as Codec<MeetingCreated>,
  'video.meeting_deleted': MeetingDeleted as Codec<MeetingDeleted>,
  'video.consultation_ended': ConsultationEnded as Codec<ConsultationEnded>,
  'video.zoom_webhook_received': ZoomWebhookReceived as Codec<ZoomWebhookReceived>,
  'audit.recorded': AuditRecorded as Codec<AuditRecorded>,
} as const;

export type EventType = keyof typeof eventCodecs;
export type EventData<T extends EventType> = ReturnType<(typeof eventCodecs)[T]['decode']>;

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(eventCodecs, type);
}

export function encodeEventData<T extends EventType>(type: T, data: EventData<T>): Uint8Array {
  const codec = eventCodecs[type] as Codec<EventData<T>>;
  return codec.encode(codec.fromPartial(data)).finish();
}

export function decodeEventData<T extends EventType>(type: T, bytes: Uint8Array): EventData<T> {
  return (eventCodecs[type] as Codec<EventData<T>>).decode(bytes);
}

export {
  UserRegistered,
  UserErased,
  ProfileUpdated,
  AppointmentHeld,
  AppointmentConfirmed,
  AppointmentMeetingReady,
  AppointmentCancelled,
  AppointmentExpired,
  AppointmentCompleted,
  AppointmentNoShow,
  AppointmentRescheduled,
  AvailabilityChanged,
  InvoiceCreated,
  PaymentSeen,
  PaymentConfirmed,
  PaymentExpired,
  RefundRequested,
  RefundDestinationSet,
  RefundPaid,
  RefundSent,
  TopUpRequested,
  ProviderSwitched,
  WebhookReceived,
  MeetingCreated,
  MeetingDeleted,
  ConsultationEnded,
  ZoomWebhookReceived,
  AuditRecorded,
};
