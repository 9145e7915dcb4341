import type { EventHandlers } from '@cryptocare/events';
import { isUuid } from '@cryptocare/platform';
import { consumedTopics } from '@cryptocare/contracts';
import type { Prisma } from '../generated/prisma';
import type { Bookings } from '../bookings';

type Tx = Prisma.TransactionClient;

/** What appointment does when other services report something (consumer group `appointment`). */
export function appointmentConsumers(bookings: Bookings) {
  const handlers: EventHandlers = {
    'payment.confirmed': (event, tx) => bookings.onPaymentConfirmed(event, tx as Tx),
    'payment.expired': async (event, tx) => {
      if (isUuid(event.data.appointmentId)) await bookings.onPaymentExpired(event, tx as Tx);
    },
    'video.meeting_created': (event, tx) => bookings.onMeetingCreated(event, tx as Tx),
    'video.consultation_ended': async (event, tx) => {
      if (isUuid(event.data.appointmentId)) await bookings.onConsultationEnded(event, tx as Tx);
    },
    'identity.user_erased': async (event, tx) => {
      if (isUuid(event.data.userId)) await bookings.onUserErased(event.data.userId, tx as Tx);
    },
  };
  return [{ groupId: 'appointment', topics: consumedTopics('appointment', 'appointment'), handlers }];
}
