import type { EventHandlers } from '@cryptocare/events';
import { events } from '@cryptocare/contracts';
import type { Prisma } from '../generated/prisma';
import type { Bookings } from '../bookings';
import type { AppointmentStore } from '../store/appointment-store';

type Tx = Prisma.TransactionClient;

/** What appointment does when other services report something (consumer group `appointment`). */
export function appointmentConsumers(bookings: Bookings, store: AppointmentStore) {
  const handlers: EventHandlers = {
    'payment.confirmed': (event, tx) => bookings.onPaymentConfirmed(event, tx as Tx),
    'video.meeting_created': (event, tx) => bookings.onMeetingCreated(event, tx as Tx),
    'identity.user_erased': async (event, tx) => {
      await store.anonymisePatient(tx as Tx, event.data.userId);
      await store.eraseProfessional(tx as Tx, event.data.userId);
    },
  };
  return [{ groupId: 'appointment', topics: [events.topics.payment, events.topics.video, events.topics.identity], handlers }];
}
