import { memo, useDeferredValue, useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, bookAppointment, call, isRetryable, newIdempotencyKey, type BookingDetail, type Professional, type Slots } from '../api';
import { ErrorText, messageOf, useProfessional, useReference } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

const SLOTS_SHOWN = 24;

/** A professional's page: who they are, their next free slots in the patient's time zone, booking. */
export function ProfessionalPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const f = useFormat();
  const profile = useProfessional(id);
  const specialties = useReference('specialties');
  useEffect(() => {
    if (profile.data) document.title = `${profile.data.displayName} · CryptoCare`;
  }, [profile.data]);

  if (profile.isPending) return <p aria-live="polite">{t('common.loading')}</p>;
  if (profile.error) {
    const missing = profile.error instanceof ApiError && profile.error.status === 404;
    return (
      <>
        <h1>{missing ? t('professional.notFound') : t('common.error')}</h1>
        {!missing && <ErrorText error={profile.error} />}
        <p><Link to="/">{t('nav.search')}</Link></p>
      </>
    );
  }
  const p = profile.data;
  const names = new Map((specialties.data?.items ?? []).map((s) => [s.code, s.name]));

  // Who they are, and their slots: two components, so the first render (a transition, see
  // main.tsx) can give the main thread back between them (each begins with a costly first use of
  // Intl on a slow phone: the price's number format, the slots' time zones).
  return (
    <>
      <section aria-labelledby="pro-name" className="card profile">
        <div className="avatar" aria-hidden="true">{p.displayName.split(/\s+/).map((w) => w[0]).slice(0, 2).join('')}</div>
        <div className="stack">
          <h1 id="pro-name">{p.displayName}</h1>
          <p>{p.specialties.map((s) => names.get(s) ?? s).join(', ')}</p>
          <p>{[p.city, p.country].filter(Boolean).join(', ')}</p>
          <p>{t('professional.languages')}: {p.languages.map((l) => t(`languages.${l}`, { defaultValue: l })).join(', ')}</p>
          <p>{t('professional.price')}: {f.money(p.price)}{p.consultationMinutes ? ` / ${p.consultationMinutes} min` : ''}</p>
          {p.bio && <p className="bio">{p.bio}</p>}
        </div>
      </section>
      <FreeSlots key={p.id} professional={p} />
    </>
  );
}

/**
 * Their next free slots, by day in the patient's time zone (theirs on hover when it differs), and
 * booking one. Memo: the specialties' names arriving for the profile above do not redraw the slots.
 */
const FreeSlots = memo(function FreeSlots({ professional: p }: { professional: Professional }) {
  const { t } = useTranslation();
  const f = useFormat();
  const navigate = useNavigate();
  const queries = useQueryClient();
  const { session, token } = useSession();
  const id = p.id;
  const slots = useQuery({
    queryKey: ['slots', id],
    queryFn: () => call<Slots>('GET', `/v1/professionals/${encodeURIComponent(id)}/slots`),
  });
  const [shown, setShown] = useState(SLOTS_SHOWN);
  const [booking, setBooking] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** One Idempotency-Key per slot the patient tries to book, kept until an answer is final. */
  const bookingKeys = useRef(new Map<string, string>());

  // The list of slot buttons is drawn as a transition when the slots arrive (a query's answer is
  // otherwise drawn in one go): React can yield to taps in between.
  const listed = useDeferredValue(slots.data);
  const mine = f.localZone();
  const theirs = listed?.timeZone || p.timeZone;
  const canBook = session?.user.role === 'patient';

  const items = listed?.items.slice(0, shown) ?? [];
  const days: { day: string; starts: string[] }[] = [];
  for (const s of items) {
    const day = f.day(s.start, mine);
    if (days.at(-1)?.day === day) days.at(-1)!.starts.push(s.start);
    else days.push({ day, starts: [s.start] });
  }

  async function book(start: string) {
    setBooking(true);
    setError(null);
    setNotice(null);
    // The same key for every try at this slot (our retries and the patient's), until the answer is final.
    const slotKey = `${p.id}|${start}`;
    const idempotencyKey = bookingKeys.current.get(slotKey) ?? newIdempotencyKey();
    bookingKeys.current.set(slotKey, idempotencyKey);
    try {
      const b = await bookAppointment(token() ?? '', { professionalId: p.id, start }, idempotencyKey, { onRetry: () => setNotice(t('book.busyRetrying')) });
      bookingKeys.current.delete(slotKey);
      queries.setQueryData<BookingDetail>(['booking', b.appointment.id], { appointment: b.appointment, invoice: b.invoice, refund: null });
      void queries.invalidateQueries({ queryKey: ['slots', id] });
      void queries.invalidateQueries({ queryKey: ['bookings'] });
      navigate(`/bookings/${b.appointment.id}`);
    } catch (err) {
      if (!isRetryable(err)) bookingKeys.current.delete(slotKey);
      if (isRetryable(err)) {
        setNotice(null);
        setError(t('book.couldNotConfirm'));
      } else if (err instanceof ApiError && err.code === 'SLOT_TAKEN') {
        setNotice(t('book.slotTaken'));
        void slots.refetch();
      } else {
        setError(messageOf(err));
      }
    } finally {
      setBooking(false);
    }
  }

  return (
    <section aria-labelledby="slots-title" className="card">
      <h2 id="slots-title">{t('professional.freeSlots')}</h2>
      <p className="muted">
        {t('professional.yourZone', { zone: mine })}
        {theirs && theirs !== mine ? ` ${t('professional.theirZone', { name: p.displayName, zone: theirs })}` : ''}
      </p>
      {notice && <p role="alert" className="warning">{notice}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      <ErrorText error={slots.error} />
      {!session && <p className="muted">{t('professional.signInToBook')} <Link to="/">{t('nav.signIn')}</Link></p>}
      {!listed && !slots.error && <p aria-live="polite">{t('professional.loadingSlots')}</p>}
      {listed && listed.items.length === 0 && <p>{t('professional.noSlots')}</p>}
      {days.map(({ day, starts }) => (
        <div key={day} role="group" aria-label={day} className="day">
          <h3>{day}</h3>
          <div className="slots">
            {starts.map((start) => (
              <button key={start} type="button" className="slot" disabled={!canBook || booking} onClick={() => void book(start)}
                aria-label={t('professional.bookAt', { time: f.instant(start, mine) })}
                title={theirs && theirs !== mine ? `${f.instant(start, theirs)} (${theirs})` : undefined}>
                {f.time(start, mine)}
              </button>
            ))}
          </div>
        </div>
      ))}
      {listed && listed.items.length > shown && (
        <button type="button" className="secondary" onClick={() => setShown(shown + SLOTS_SHOWN)}>{t('professional.moreSlots')}</button>
      )}
    </section>
  );
});
