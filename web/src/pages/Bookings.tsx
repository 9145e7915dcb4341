import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, type Appointment, type Page } from '../api';
import { ErrorText, JoinLink, useNow, useProfessional } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

function ProfessionalName({ id }: { id: string }) {
  const p = useProfessional(id);
  return <>{p.data?.displayName ?? ''}</>;
}

/** Upcoming first (soonest first), then past (latest first). Expired and cancelled ones are past. */
export function splitBookings(items: Appointment[], now: number) {
  const upcoming = items.filter((a) => Date.parse(a.end) > now && (a.status === 'held' || a.status === 'confirmed'));
  const past = items.filter((a) => !upcoming.includes(a));
  upcoming.sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
  past.sort((x, y) => Date.parse(y.start) - Date.parse(x.start));
  return { upcoming, past };
}

export function useMyBookings() {
  const { token, session } = useSession();
  return useQuery({
    queryKey: ['bookings', session?.user.id],
    queryFn: () => call<Page<Appointment>>('GET', '/v1/appointments?limit=100', { token: token() }),
    enabled: !!session,
  });
}

/** Who the professional sees the booking with: the patient's name, "erased" (null), or just "Patient" when names are unavailable. */
function PatientName({ booking }: { booking: Appointment }) {
  const { t } = useTranslation();
  if (booking.patientName === null) return <>{t('bookings.erasedPatient')}</>;
  return <>{booking.patientName || t('bookings.patient')}</>;
}

/** Bookings, each with its time (in `timeZone` when given, e.g. the professional's), who with, and its status. */
export function BookingList({ items, label, who, timeZone }: { items: Appointment[]; label: string; who: 'patient' | 'professional'; timeZone?: string | null }) {
  const { t } = useTranslation();
  const f = useFormat();
  if (items.length === 0) return <p className="muted">{t('bookings.none')}</p>;
  return (
    <ul className="results" aria-label={label}>
      {items.map((a) => (
        <li key={a.id}>
          <div>
            <h3><Link to={`/bookings/${a.id}`}>{f.instant(a.start, timeZone)}</Link></h3>
            <p>{who === 'patient' ? <ProfessionalName id={a.professionalId} /> : <PatientName booking={a} />} · {t(`status.${a.status}`, { defaultValue: a.status })}</p>
          </div>
          <JoinLink appointment={a} />
        </li>
      ))}
    </ul>
  );
}

/** A patient's bookings: upcoming and past. */
export function BookingsPage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  const now = useNow(60_000);
  const bookings = useMyBookings();
  if (!session) return restoring ? <p>{t('common.loading')}</p> : <p>{t('common.signInFirst')} <Link to="/">{t('nav.signIn')}</Link></p>;
  const { upcoming, past } = splitBookings(bookings.data?.items ?? [], now);
  return (
    <>
      <h1>{t('bookings.title')}</h1>
      <ErrorText error={bookings.error} />
      {bookings.isPending && <p>{t('common.loading')}</p>}
      {bookings.data && (
        <>
          <section aria-labelledby="upcoming-title" className="card">
            <h2 id="upcoming-title">{t('bookings.upcoming')}</h2>
            <BookingList items={upcoming} label={t('bookings.upcoming')} who="patient" />
          </section>
          <section aria-labelledby="past-title" className="card">
            <h2 id="past-title">{t('bookings.past')}</h2>
            <BookingList items={past} label={t('bookings.past')} who="patient" />
          </section>
        </>
      )}
    </>
  );
}
