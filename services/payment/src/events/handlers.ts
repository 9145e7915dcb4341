import { consumedTopics } from '@cryptocare/contracts';
import { isUuid, type Logger } from '@cryptocare/platform';
import type { EventHandlers } from '@cryptocare/events';
import { parsePrice } from '../domain/money';
import type { Payments } from '../payments';
import type { PaymentStore, Tx } from '../store/payment-store';

/**
 * What payment does when something happens elsewhere (consumer group `payment`). Every write goes
 * through the consumer's transaction, so it commits with the `processed_events` row. A provider
 * outage never fails a handler: it becomes a pending request or waits for reconciliation.
 */
export function paymentConsumers(payments: Payments, store: PaymentStore, logger: Logger) {
  const handlers: EventHandlers = {
    'appointment.held': async (event, tx) => {
      const { appointmentId, patientId, price, holdExpiresAt } = event.data;
      const parsedPrice = parsePrice(price?.amount, price?.currency);
      const hold = new Date(holdExpiresAt);
      if (!isUuid(appointmentId) || typeof parsedPrice === 'string' || Number.isNaN(hold.getTime())) {
        logger.warn({ eventId: event.id, appointmentId }, 'appointment.held without a usable appointment id, price or hold; ignored');
        return;
      }
      await payments.onHeld({ appointmentId, patientId: isUuid(patientId) ? patientId : null, price: parsedPrice, holdExpiresAt: hold }, tx as Tx);
    },
    'appointment.expired': async (event, tx) => {
      if (isUuid(event.data.appointmentId)) await payments.onExpired(event.data.appointmentId, tx as Tx);
    },
    'appointment.cancelled': async (event, tx) => {
      const { appointmentId, reason, wasPaid, cancelledBy } = event.data;
      if (isUuid(appointmentId)) await payments.onCancelled({ appointmentId, reason, cancelledBy, wasPaid }, tx as Tx);
    },
    'identity.user_erased': async (event, tx) => {
      if (isUuid(event.data.userId)) await store.anonymisePatient(tx as Tx, event.data.userId);
    },
    'payment.webhook_received': (event, tx) => payments.processWebhook(event, tx as Tx),
  };
  return [{ groupId: 'payment', topics: consumedTopics('payment', 'payment'), handlers }];
}
