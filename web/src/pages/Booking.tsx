import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, svgDataUrl, type Appointment, type BookingDetail, type Invoice, type Refund, type Slots, type TopUp } from '../api';
import { ErrorText, JoinLink, useNow, useProfessional } from '../common';
import { useFormat } from '../format';
import { followBooking } from '../live';
import { useSession } from '../session';
import { BookingMoney } from './Money';

const STEPS = ['invoice_ready', 'confirmed', 'meeting_ready'] as const;

function stepsReached(b: BookingDetail): Set<string> {
  const reached = new Set<string>();
  if (b.invoice || ['confirmed', 'completed'].includes(b.appointment.status)) reached.add('invoice_ready');
  if (['confirmed', 'completed'].includes(b.appointment.status)) reached.add('confirmed');
  if (b.appointment.meeting) STEPS.forEach((s) => reached.add(s));
  return reached;
}

/** Is a cancel still possible: held or confirmed, and not started. */
export const cancellable = (a: Appointment, now: number) => (a.status === 'held' || a.status === 'confirmed') && Date.parse(a.start) > now;

/** The invoice: QR code, BOLT11 to copy, "open in wallet", and the time left to pay. */
function InvoiceView({ invoice }: { invoice: Invoice }) {
  const { t } = useTranslation();
  const f = useFormat();
  const now = useNow();
  const [copied, setCopied] = useState(false);
  const left = Math.max(0, Math.floor((Date.parse(invoice.expiresAt) - now) / 1000));
  async function copy() {
    try {
      await navigator.clipboard.writeText(invoice.lightningInvoice);
      setCopied(true);
    } catch {
      const area = document.getElementById('bolt11') as HTMLTextAreaElement | null;
      area?.select();
      setCopied(document.execCommand?.('copy') ?? false);
    }
    setTimeout(() => setCopied(false), 2000);
  }
  return (
    <div className="invoice">
      {invoice.qrSvg && <img className="qr" src={svgDataUrl(invoice.qrSvg)} alt={t('booking.qrAlt')} width={240} height={240} />}
      <div className="stack">
        <p className="amount"><span data-testid="fiat">{f.money(invoice.amount)}</span> = <span data-testid="sats">{f.sats(invoice.sats)}</span></p>
        <label>{t('booking.bolt11')}
          <textarea id="bolt11" readOnly value={invoice.lightningInvoice} rows={4} onFocus={(e) => e.currentTarget.select()} />
        </label>
        <div className="row">
          <button type="button" onClick={copy}>{copied ? t('booking.copied') : t('booking.copy')}</button>
          {invoice.paymentUri && <a className="button secondary" href={invoice.paymentUri}>{t('booking.openWallet')}</a>}
          <a className="button secondary" href={invoice.checkoutUrl} target="_blank" rel="noopener noreferrer">{t('booking.openCheckout')}</a>
        </div>
        <p className="muted" data-testid="countdown">
          {left > 0 ? t('booking.payWithin', { time: `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}` }) : t('booking.invoiceExpired')}
        </p>
      </div>
    </div>
  );
}

/** "You paid X of Y, pay the rest": the second invoice of an under-payment, with its QR code, copy and wallet link. */
function TopUpView({ topUp }: { topUp: TopUp }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <div className="stack" data-testid="top-up">
      <h2>{t('topUp.title')}</h2>
      <p data-testid="top-up-paid">{t('topUp.paidOf', { paid: f.money(topUp.paid), price: f.money(topUp.price), rest: f.money(topUp.rest) })}</p>
      <InvoiceView invoice={topUp.invoice} />
    </div>
  );
}

/**
 * Held, its invoice ended (at its expiry, or the provider ended it) and no top-up shown yet: an
 * under-payment's top-up may be on its way (the live stream announces one invoice only), so the
 * booking is read again until it shows one or the booking moves on.
 */
const topUpMayCome = (b: BookingDetail | undefined) =>
  b?.appointment.status === 'held' && !b.topUp && !!b.invoice && (b.invoice.status === 'expired' || Date.parse(b.invoice.expiresAt) <= Date.now());

/** Cancelled after paying: the refund case is opened by payment a moment later (an event away). */
const refundComing = (b: BookingDetail | undefined) => b?.appointment.status === 'cancelled' && b.invoice?.status === 'paid' && !b.refund;

function RefundView({ refund, coming }: { refund: Refund | null | undefined; coming: boolean }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const queries = useQueryClient();
  const [destination, setDestination] = useState('');
  const save = useMutation({
    mutationFn: (body: { id: string; destination: string }) =>
      call<{ refund: Refund }>('PUT', `/v1/appointments/${encodeURIComponent(body.id)}/refund-destination`, { token: token(), body: { destination: body.destination } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['booking'] }),
  });
  const { id = '' } = useParams();
  if (!refund) return <p data-testid="refund-outcome">{coming ? t('booking.refundPending') : t('booking.nothingToRefund')}</p>;
  return (
    <div className="stack" data-testid="refund-outcome">
      <p>{refund.status === 'paid'
        ? t('booking.refundPaid', { sats: f.sats(refund.sats), ref: refund.txReference ?? '' })
        : t('booking.refundDue', { sats: f.sats(refund.sats) })}</p>
      {/* Paid out by the provider (a BTCPay pull payment): the patient claims it there, no destination to give. */}
      {refund.status === 'sent' && refund.claimLink && (
        <p>{t('booking.refundSent')} <a href={refund.claimLink} target="_blank" rel="noopener noreferrer">{t('booking.refundClaim', { sats: f.sats(refund.sats) })}</a></p>
      )}
      {refund.status !== 'paid' && !(refund.status === 'sent' && refund.claimLink) && (refund.destination
        ? <p className="muted">{t('booking.refundTo', { destination: refund.destination })}</p>
        : (
          <form className="row" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate({ id, destination }); }}>
            <label className="wide">{t('booking.refundDestination')}
              <input value={destination} onChange={(e) => setDestination(e.target.value)} required maxLength={2048} />
            </label>
            <button type="submit" disabled={save.isPending}>{t('common.save')}</button>
          </form>
        ))}
      <ErrorText error={save.error} />
    </div>
  );
}

/** How many of the professional's next free slots a move offers. */
const MOVE_CHOICES = 8;

/**
 * A paid booking moved to another free slot of its professional (POST …/reschedule): the
 * professional's next slots as buttons, in the patient's zone; the meeting follows on the server.
 */
function RescheduleView({ appointment }: { appointment: Appointment }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const [movedTo, setMovedTo] = useState<string | null>(null);
  const slots = useQuery({
    queryKey: ['slots', appointment.professionalId],
    queryFn: () => call<Slots>('GET', `/v1/professionals/${encodeURIComponent(appointment.professionalId)}/slots`),
    enabled: open,
  });
  const move = useMutation({
    mutationFn: (start: string) => call<{ appointment: Appointment }>('POST', `/v1/appointments/${encodeURIComponent(appointment.id)}/reschedule`, { token: token(), body: { start } }),
    onSuccess: ({ appointment: moved }) => {
      setOpen(false);
      setMovedTo(moved.start);
      void queries.invalidateQueries({ queryKey: ['booking', appointment.id] });
      void queries.invalidateQueries({ queryKey: ['bookings'] });
      void queries.invalidateQueries({ queryKey: ['slots', appointment.professionalId] });
    },
  });
  const choices = (slots.data?.items ?? []).map((s) => s.start).filter((start) => start !== appointment.start).slice(0, MOVE_CHOICES);
  return (
    <div className="stack">
      {movedTo && <p role="status" className="success">{t('booking.moved', { time: f.instant(movedTo) })}</p>}
      {!open ? (
        <div className="row"><button type="button" className="secondary" onClick={() => { setMovedTo(null); setOpen(true); }}>{t('booking.reschedule')}</button></div>
      ) : (
        <section aria-labelledby="move-title" className="stack">
          <h2 id="move-title">{t('booking.rescheduleTitle')}</h2>
          <p className="muted">{t('booking.rescheduleNote')}</p>
          {slots.isPending && <p aria-live="polite">{t('common.loading')}</p>}
          <ErrorText error={slots.error} />
          {slots.data && choices.length === 0 && <p>{t('booking.noOtherSlots')}</p>}
          <div className="slots">
            {choices.map((start) => (
              <button key={start} type="button" className="slot" disabled={move.isPending} onClick={() => move.mutate(start)} aria-label={t('booking.moveTo', { time: f.instant(start) })}>
                {f.instant(start)}
              </button>
            ))}
          </div>
          <div className="row"><button type="button" className="secondary" onClick={() => setOpen(false)}>{t('booking.rescheduleKeep')}</button></div>
        </section>
      )}
      <ErrorText error={move.error} />
    </div>
  );
}

/** One booking: its invoice and live progress, then the meeting; cancel with the refund outcome. */
export function BookingPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const { token, session } = useSession();
  const queries = useQueryClient();
  const now = useNow(30_000);
  const key = ['booking', id];
  const booking = useQuery({
    queryKey: key,
    queryFn: () => call<BookingDetail>('GET', `/v1/appointments/${encodeURIComponent(id)}`, { token: token() }),
    staleTime: 10_000,
    refetchInterval: (q) => (refundComing(q.state.data) ? 1_000 : topUpMayCome(q.state.data) ? 3_000 : false),
  });
  const professional = useProfessional(booking.data?.appointment.professionalId);
  const [liveStatus, setLiveStatus] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const cancel = useMutation({
    mutationFn: () => call<{ appointment: Appointment }>('POST', `/v1/appointments/${encodeURIComponent(id)}/cancel`, { token: token(), body: {} }),
    onSuccess: () => {
      setConfirming(false);
      void queries.invalidateQueries({ queryKey: key });
      void queries.invalidateQueries({ queryKey: ['bookings'] });
    },
  });

  const status = booking.data?.appointment.status;
  const waiting = status === 'held' || (status === 'confirmed' && !booking.data?.appointment.meeting);
  // Follows the booking's event stream while something is still to come.
  useEffect(() => {
    if (!waiting) return;
    const update = (change: (b: BookingDetail) => BookingDetail) => queries.setQueryData<BookingDetail>(['booking', id], (b) => (b ? change(b) : b));
    const withStatus = (s: string) => (b: BookingDetail) => ({ ...b, appointment: { ...b.appointment, status: s } });
    return followBooking(id, token, {
      onStatus: setLiveStatus,
      onEvent(name, data) {
        switch (name) {
          case 'invoice_ready':
            if (data.invoice) update((b) => ({ ...b, invoice: data.invoice as Invoice }));
            else void queries.invalidateQueries({ queryKey: ['booking', id] });
            break;
          case 'payment_seen':
            setLiveStatus(t('booking.paymentSeen'));
            // Part of it may have come (an under-payment): read the booking for what it now shows.
            void queries.invalidateQueries({ queryKey: ['booking', id] });
            break;
          case 'confirmed':
            setLiveStatus(null);
            update(withStatus('confirmed'));
            break;
          case 'meeting_ready':
            update((b) => ({ ...b, appointment: { ...b.appointment, status: 'confirmed', meeting: { joinUrl: String(data.joinUrl ?? ''), provider: String(data.provider ?? '') } } }));
            break;
          case 'expired':
          case 'cancelled':
            update(withStatus(name));
            void queries.invalidateQueries({ queryKey: ['booking', id] });
            break;
        }
      },
    }, {
      interrupted: t('live.interrupted'),
      stillTrying: t('live.stillTrying'),
      signInAgain: t('live.signInAgain'),
      unavailable: (reason) => t('live.unavailable', { reason }),
      stopped: (reason) => t('live.stopped', { reason }),
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, waiting]);

  // A new booking: bring it into view (on a phone) and move focus to it.
  useEffect(() => {
    heading.current?.focus();
  }, [id, booking.isSuccess]);

  if (booking.isPending) return <p aria-live="polite">{t('common.loading')}</p>;
  if (booking.error) return (<><h1>{t('booking.title')}</h1><ErrorText error={booking.error} /></>);
  const b = booking.data;
  const a = b.appointment;
  const reached = stepsReached(b);
  const p = professional.data;
  const ended = a.status === 'expired' ? t('booking.expired') : a.status === 'cancelled' ? t('booking.cancelled') : null;

  return (
    <section aria-labelledby="booking-title" className="card">
      <h1 id="booking-title" ref={heading} tabIndex={-1}>{t('booking.title')}</h1>
      <p>{p ? <><Link to={`/professionals/${p.id}`}>{p.displayName}</Link>, </> : ''}{f.instant(a.start)}
        {p?.timeZone && p.timeZone !== f.localZone() ? ` (${f.instant(a.start, p.timeZone)}, ${p.timeZone})` : ''}
        {' · '}<span data-testid="booking-status">{t(`status.${a.status}`, { defaultValue: a.status })}</span></p>
      {!a.meeting && !ended && !b.invoice && a.status === 'held' && (
        // The payment provider could not be reached at booking time: the slot is held, the
        // invoice comes on the live stream (invoice_ready) as soon as the provider answers.
        <p role="status" className="preparing" data-testid="invoice-preparing">{t('booking.preparing')}</p>
      )}
      {!a.meeting && !ended && b.invoice && a.status === 'held' && (b.topUp ? <TopUpView topUp={b.topUp} /> : <InvoiceView invoice={b.invoice} />)}
      {!ended && (
        <ol className="steps" aria-label={t('booking.progress')}>
          {STEPS.map((s) => (
            <li key={s} data-step={s} className={reached.has(s) ? 'done' : undefined}>
              <span aria-hidden="true">{reached.has(s) ? '✔' : '○'}</span> {t(`booking.step.${s}`)}
              <span className="visually-hidden">{reached.has(s) ? t('booking.done') : t('booking.waiting')}</span>
            </li>
          ))}
        </ol>
      )}
      <div aria-live="polite">
        {a.meeting?.joinUrl && a.status === 'confirmed' && (
          <div className="stack">
            {/* A Jitsi room opens only with the token the join route mints (JoinLink): its bare URL is no link. */}
            <p className="success">{t('booking.booked')} {a.meeting.provider !== 'jitsi' && <a data-testid="join-url" href={a.meeting.joinUrl} target="_blank" rel="noopener noreferrer">{t('booking.meetingLink')}</a>}</p>
            <JoinLink appointment={a} />
          </div>
        )}
        {ended && <p role="alert" className="error">{ended}</p>}
        {liveStatus && !a.meeting && !ended && <p className="muted">{liveStatus}</p>}
      </div>
      {b.invoice && <BookingMoney booking={b} />}
      {(a.status === 'cancelled' || b.refund) && 'refund' in b && <RefundView refund={b.refund} coming={refundComing(b)} />}
      {a.status === 'confirmed' && Date.parse(a.start) > now && session?.user.role !== 'admin' && <RescheduleView appointment={a} />}
      {cancellable(a, now) && (
        <div className="row cancel">
          {!confirming
            ? <button type="button" className="secondary" onClick={() => setConfirming(true)}>{t('booking.cancel')}</button>
            : (
              <>
                <span>{t('booking.cancelSure')}</span>
                <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending}>{t('booking.cancelYes')}</button>
                <button type="button" className="secondary" onClick={() => setConfirming(false)}>{t('booking.cancelNo')}</button>
              </>
            )}
        </div>
      )}
      <ErrorText error={cancel.error} />
      <p><Link to="/bookings">{t('nav.bookings')}</Link></p>
    </section>
  );
}
