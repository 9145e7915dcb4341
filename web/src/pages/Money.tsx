import { useEffect } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { BookingDetail } from '../api';
import type { Success } from '../api/client';
import { apiError, useApi } from '../api/use-api';
import { ErrorText } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

type Ledger = Success<'getAppointmentLedger'>;
type Balance = Ledger['balance'];

/** How long the page keeps asking while a movement it expects is still on its way (an event away). */
const SETTLING_POLL_MS = 2_000;
const SETTLING_POLLS = 30;

/**
 * The ledger is still catching up: an over-payment recorded before the excess owed back (kept more
 * than due), or a paid booking cancelled whose refund is not written yet.
 */
const settling = (balance: Balance | undefined, status: string) =>
  !!balance && (balance.state === 'inconsistent' || (status === 'cancelled' && balance.state === 'paid'));

/** The balance in words, for the patient. */
function StateText({ balance }: { balance: Balance }) {
  const { t } = useTranslation();
  const f = useFormat();
  const fiat = (minor: number) => f.minor(minor, balance.currency);
  switch (balance.state) {
    case 'nothing_paid':
      return <>{t('money.state.nothing_paid')}</>;
    case 'paid':
      return <>{t('money.state.paid', { sats: f.sats(balance.keptSats), fiat: fiat(balance.keptFiatMinor) })}</>;
    case 'refunded':
      return <>{t('money.state.refunded', { sats: f.sats(balance.refundPaidSats) })}</>;
    case 'short':
      return <>{t('money.state.short', { sats: f.sats(balance.receivedSats), due: f.sats(balance.dueSats), missing: f.sats(balance.dueSats - balance.keptSats) })}</>;
    case 'refund_outstanding':
      return <>{t('money.state.refund_outstanding', { sats: f.sats(balance.outstandingSats), fiat: fiat(balance.outstandingFiatMinor) })}</>;
    default:
      return <>{t('money.state.inconsistent')}</>;
  }
}

/**
 * A booking's money, from its ledger (GET /v1/appointments/{id}/ledger): every movement (invoice
 * created, paid, over, under, refund owed, refund paid) with its date, sats, fiat and rate, and the
 * balance in words. The booking's patient and the admins see it; a professional does not.
 */
export function BookingMoney({ booking }: { booking: BookingDetail }) {
  const { t } = useTranslation();
  const f = useFormat();
  const api = useApi();
  const { session } = useSession();
  const queries = useQueryClient();
  const a = booking.appointment;
  const role = session?.user.role;
  const visible = role === 'patient' || role === 'admin';
  const ledger = useQuery({
    // A change of the booking (paid, cancelled, a refund owed or paid) reads the ledger again.
    queryKey: ['ledger', a.id, a.status, booking.invoice?.status ?? null, booking.refund?.status ?? null, booking.refund?.sats ?? null],
    queryFn: async () => {
      const { data, error, response } = await api.GET('/v1/appointments/{id}/ledger', { params: { path: { id: a.id } } });
      if (!data) throw apiError(response, error);
      return data;
    },
    enabled: visible,
    // While the changed booking's ledger is read again, keep showing this booking's last one: its
    // movements only ever grow, and without this the section blinks to "Loading" at every change.
    placeholderData: (previous, previousQuery) => (previousQuery?.queryKey[1] === a.id ? previous : undefined),
    refetchInterval: (q) => (settling(q.state.data?.balance, a.status) && q.state.dataUpdateCount < SETTLING_POLLS ? SETTLING_POLL_MS : false),
  });

  // The ledger owes money back that the booking does not show yet (an over-payment confirmed on the
  // live stream, a refund grown): read the booking again, so its refund and destination form appear.
  const owed = ledger.data?.balance.refundDueSats ?? 0;
  useEffect(() => {
    if (owed > 0 && (!booking.refund || booking.refund.sats !== owed)) void queries.invalidateQueries({ queryKey: ['booking', a.id] });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [owed, ledger.dataUpdatedAt]);

  if (!visible) return null;
  const data = ledger.data;
  return (
    <section aria-labelledby="money-title" className="stack money" data-testid="money">
      <h2 id="money-title">{t('money.title')}</h2>
      {ledger.isPending && <p aria-live="polite">{t('common.loading')}</p>}
      <ErrorText error={ledger.error} />
      {data && (
        <>
          <p data-testid="money-state" aria-live="polite" className={data.balance.balanced && data.balance.state !== 'nothing_paid' ? 'success' : undefined}>
            <StateText balance={data.balance} />
          </p>
          <ol className="plain-list movements" aria-label={t('money.movements')}>
            {data.entries.map((e) => (
              <li key={e.id} data-kind={e.kind}>
                <strong>{t(`money.kind.${e.kind}`)}</strong>{' · '}
                <time dateTime={e.createdAt}>{f.instant(e.createdAt)}</time>
                <br />
                <span>{f.sats(e.sats)} = {f.minor(e.fiatMinor, e.currency)}</span>
                <br />
                <span className="muted">{t('money.rate', { rate: f.money({ amount: e.rate, currency: e.currency }) })}</span>
              </li>
            ))}
          </ol>
        </>
      )}
    </section>
  );
}
