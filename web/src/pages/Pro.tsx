import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, call, type Professional, type Slots } from '../api';
import { ErrorText, useNow, useReference } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';
import { BookingList, splitBookings, useMyBookings } from './Bookings';
import { DateOverridesEditor } from './DateOverrides';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const;
interface Range { weekday: number; start: string; end: string }
interface Schedule { rules: Range[]; slotMinutes: number; bufferMinutes: number; minimumNoticeMinutes: number; horizonDays: number }
interface TimeOff { id: string; start: string; end: string; reason: string }

/** One of my own resources (GET /v1/professionals/me…): null while it does not exist yet (404). */
function useMine<T>(key: string, path: string) {
  const { token } = useSession();
  return useQuery({
    queryKey: ['mine', key],
    queryFn: () => call<T>('GET', path, { token: token() }).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }),
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  });
}

/** An admin's rejection of my profile: their reason, when, and that saving again asks for a new review. */
function Rejection({ review }: { review: NonNullable<Professional['review']> }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <div className="rejection" role="note" aria-labelledby="rejection-title">
      <h3 id="rejection-title">{t('pro.rejectedTitle')}</h3>
      {review.at && <p className="muted">{t('pro.rejectedAt', { date: f.instant(review.at) })}</p>}
      <blockquote>{review.reason}</blockquote>
      <p>{t('pro.rejectedNext')}</p>
    </div>
  );
}

function ProfileEditor({ me }: { me: string }) {
  const { t } = useTranslation();
  const { token } = useSession();
  const queries = useQueryClient();
  const current = useMine<Professional>('profile', '/v1/professionals/me');
  const specialties = useReference('specialties');
  const countries = useReference('countries');
  const [form, setForm] = useState<Record<string, string> | null>(null);
  const p = current.data;
  const values = form ?? {
    specialty: p?.specialties[0] ?? '', languages: p?.languages.join(', ') ?? '', country: p?.country ?? 'CH', city: p?.city ?? '',
    latitude: String(p?.latitude ?? ''), longitude: String(p?.longitude ?? ''), amount: p?.price?.amount ?? '', currency: p?.price?.currency ?? 'CHF',
    consultationMinutes: String(p?.consultationMinutes ?? 30), timeZone: p?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone, bio: p?.bio ?? '',
  };
  const set = (k: string) => (e: { target: { value: string } }) => setForm({ ...values, [k]: e.target.value });
  const save = useMutation({
    // Whether this save answers a rejection (then it asks for a new review).
    mutationFn: (_: { afterRejection: boolean }) => call<Professional>('PUT', '/v1/professionals/me', {
      token: token(),
      body: {
        specialties: [values.specialty], languages: values.languages.split(/[\s,]+/).filter(Boolean), country: values.country, city: values.city,
        latitude: Number(values.latitude), longitude: Number(values.longitude), price: { amount: values.amount, currency: values.currency },
        consultationMinutes: Number(values.consultationMinutes), timeZone: values.timeZone, bio: values.bio,
      },
    }),
    onSuccess: (saved) => {
      queries.setQueryData(['mine', 'profile'], saved);
      void queries.invalidateQueries({ queryKey: ['professional', me] });
    },
  });
  return (
    <section aria-labelledby="profile-title" className="card">
      <h2 id="profile-title">{t('pro.profile')}</h2>
      {p?.review?.state === 'rejected' && <Rejection review={p.review} />}
      <form className="search-form" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate({ afterRejection: p?.review?.state === 'rejected' }); }}>
        <label>{t('search.specialty')}
          <select value={values.specialty} onChange={set('specialty')} required>
            <option value="">—</option>
            {specialties.data?.items.map((s) => <option key={s.code} value={s.code}>{s.name}</option>)}
          </select>
        </label>
        <label>{t('pro.languages')}
          <input value={values.languages} onChange={set('languages')} required placeholder="fr, en" />
        </label>
        <label>{t('search.country')}
          <select value={values.country} onChange={set('country')} required>
            {countries.data?.items.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
          </select>
        </label>
        <label>{t('pro.city')}<input value={values.city} onChange={set('city')} required maxLength={100} /></label>
        <label>{t('pro.latitude')}<input value={values.latitude} onChange={set('latitude')} required inputMode="decimal" /></label>
        <label>{t('pro.longitude')}<input value={values.longitude} onChange={set('longitude')} required inputMode="decimal" /></label>
        <label>{t('pro.price')}<input value={values.amount} onChange={set('amount')} required inputMode="decimal" /></label>
        <label>{t('pro.currency')}
          <select value={values.currency} onChange={set('currency')}>{['CHF', 'EUR'].map((c) => <option key={c}>{c}</option>)}</select>
        </label>
        <label>{t('pro.minutes')}<input type="number" min={10} max={180} value={values.consultationMinutes} onChange={set('consultationMinutes')} required /></label>
        <label>{t('pro.timeZone')}<input value={values.timeZone} onChange={set('timeZone')} required /></label>
        <label className="wide">{t('pro.bio')}<textarea className="prose" value={values.bio} onChange={set('bio')} maxLength={2000} rows={3} /></label>
        <div className="row wide">
          <button type="submit" disabled={save.isPending}>{t('pro.saveProfile')}</button>
          {save.isSuccess && (
            <span role="status" className="success">
              {save.data.verified ? t('pro.saved') : save.variables.afterRejection ? t('pro.savedForReview') : t('pro.savedAwaiting')}
            </span>
          )}
        </div>
      </form>
      <ErrorText error={save.error} />
    </section>
  );
}

/** The weekly schedule as saved (or a first suggestion before there is one), then its editor. */
function ScheduleEditor({ me }: { me: string }) {
  const { t } = useTranslation();
  const saved = useMine<Schedule>('schedule', '/v1/professionals/me/schedule');
  if (saved.isPending) return <p>{t('common.loading')}</p>;
  return <ScheduleForm me={me} saved={saved.data ?? null} />;
}

function ScheduleForm({ me, saved }: { me: string; saved: Schedule | null }) {
  const { t, i18n } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const queries = useQueryClient();
  const [ranges, setRanges] = useState<Range[]>(saved?.rules ?? [{ weekday: 1, start: '09:00', end: '12:00' }]);
  const [numbers, setNumbers] = useState(
    saved
      ? { slotMinutes: String(saved.slotMinutes), bufferMinutes: String(saved.bufferMinutes), minimumNoticeMinutes: String(saved.minimumNoticeMinutes), horizonDays: String(saved.horizonDays) }
      : { slotMinutes: '30', bufferMinutes: '0', minimumNoticeMinutes: '60', horizonDays: '60' },
  );
  const change = (i: number, patch: Partial<Range>) => setRanges(ranges.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const save = useMutation({
    mutationFn: async () => {
      await call('PUT', '/v1/professionals/me/schedule', {
        token: token(),
        body: { rules: ranges, ...Object.fromEntries(Object.entries(numbers).map(([k, v]) => [k, Number(v)])) },
      });
      // The preview: the slots patients now see (the next week).
      return call<Slots>('GET', `/v1/professionals/${encodeURIComponent(me)}/slots`);
    },
    // Date overrides exist only with a schedule: their editor reads them again once there is one.
    onSuccess: () => queries.invalidateQueries({ queryKey: ['date-overrides'] }),
  });
  // ISO weekdays, 1 = Monday (1 January 2024 was a Monday).
  const weekday = (d: number) => new Intl.DateTimeFormat(i18n.language, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, d)));
  return (
    <section aria-labelledby="schedule-title" className="card">
      <h2 id="schedule-title">{t('pro.schedule')}</h2>
      <form className="stack" onSubmit={(e: FormEvent) => { e.preventDefault(); save.mutate(); }}>
        <ul className="plain-list" aria-label={t('pro.ranges')}>
          {ranges.map((r, i) => (
            <li key={i} className="row">
              <label>{t('pro.weekday')}
                <select value={r.weekday} onChange={(e) => change(i, { weekday: Number(e.target.value) })}>
                  {WEEKDAYS.map((d) => <option key={d} value={d}>{weekday(d)}</option>)}
                </select>
              </label>
              <label>{t('pro.from')}<input type="time" value={r.start} onChange={(e) => change(i, { start: e.target.value })} required /></label>
              <label>{t('pro.to')}<input type="time" value={r.end} onChange={(e) => change(i, { end: e.target.value })} required /></label>
              <button type="button" className="secondary" onClick={() => setRanges(ranges.filter((_, j) => j !== i))}>{t('pro.removeRange')}</button>
            </li>
          ))}
        </ul>
        <button type="button" className="secondary" onClick={() => setRanges([...ranges, { ...(ranges.at(-1) ?? { weekday: 1, start: '09:00', end: '12:00' }) }])}>{t('pro.addRange')}</button>
        <div className="search-form">
          {(['slotMinutes', 'bufferMinutes', 'minimumNoticeMinutes', 'horizonDays'] as const).map((k) => (
            <label key={k}>{t(`pro.${k}`)}<input type="number" min={0} value={numbers[k]} onChange={(e) => setNumbers({ ...numbers, [k]: e.target.value })} required /></label>
          ))}
        </div>
        <button type="submit" disabled={save.isPending}>{t('pro.saveSchedule')}</button>
      </form>
      <ErrorText error={save.error} />
      {save.data && (
        <div role="status">
          <p className="success">{t('pro.scheduleSaved')}</p>
          <p>{t('pro.preview', { count: save.data.items.length })}</p>
          <ul className="slots" aria-label={t('pro.previewList')}>
            {save.data.items.slice(0, 12).map((s) => <li key={s.start}>{f.instant(s.start)}</li>)}
          </ul>
        </div>
      )}
    </section>
  );
}

function TimeOffEditor() {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [reason, setReason] = useState('');
  const queries = useQueryClient();
  const list = useMine<{ items: TimeOff[] }>('time-off', '/v1/professionals/me/time-off');
  const added = list.data?.items ?? [];
  const add = useMutation({
    mutationFn: () => call<TimeOff>('POST', '/v1/professionals/me/time-off', {
      token: token(), body: { start: new Date(start).toISOString(), end: new Date(end).toISOString(), ...(reason ? { reason } : {}) },
    }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['mine', 'time-off'] }),
  });
  const remove = useMutation({
    mutationFn: (id: string) => call('DELETE', `/v1/professionals/me/time-off/${encodeURIComponent(id)}`, { token: token() }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['mine', 'time-off'] }),
  });
  return (
    <section aria-labelledby="timeoff-title" className="card">
      <h2 id="timeoff-title">{t('pro.timeOff')}</h2>
      <form className="search-form" onSubmit={(e: FormEvent) => { e.preventDefault(); add.mutate(); }}>
        <label>{t('pro.from')}<input type="datetime-local" value={start} onChange={(e) => setStart(e.target.value)} required /></label>
        <label>{t('pro.to')}<input type="datetime-local" value={end} onChange={(e) => setEnd(e.target.value)} required /></label>
        <label className="wide">{t('pro.reason')}<input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={200} /></label>
        <button type="submit" disabled={add.isPending}>{t('pro.addTimeOff')}</button>
      </form>
      <ErrorText error={list.error ?? add.error ?? remove.error} />
      {added.length > 0 && (
        <ul className="plain-list" aria-label={t('pro.timeOff')}>
          {added.map((o) => (
            <li key={o.id} className="row">
              <span>{f.instant(o.start)} – {f.instant(o.end)} {o.reason}</span>
              <button type="button" className="secondary" onClick={() => remove.mutate(o.id)}>{t('pro.remove')}</button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The professional's calendar: each booking's time (in their own zone), patient and status, upcoming first. */
function Calendar() {
  const { t } = useTranslation();
  const f = useFormat();
  const now = useNow(60_000);
  const bookings = useMyBookings();
  // The zone of their profile, whatever the browser's; the browser's until there is a profile.
  const profile = useMine<Professional>('profile', '/v1/professionals/me');
  const zone = profile.data?.timeZone || f.localZone();
  const { upcoming, past } = splitBookings(bookings.data?.items ?? [], now);
  return (
    <section aria-labelledby="pro-bookings-title" className="card">
      <h2 id="pro-bookings-title">{t('pro.bookings')}</h2>
      <ErrorText error={bookings.error} />
      <p className="muted">{t('pro.calendarZone', { zone })}</p>
      <h3>{t('bookings.upcoming')}</h3>
      <BookingList items={upcoming} label={t('bookings.upcoming')} who="professional" timeZone={zone} />
      <h3>{t('bookings.past')}</h3>
      <BookingList items={past} label={t('bookings.past')} who="professional" timeZone={zone} />
    </section>
  );
}

/** The professional's day: bookings, profile, weekly schedule, time off. */
export default function ProPage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  if (restoring) return <p>{t('common.loading')}</p>;
  if (session?.user.role !== 'professional') return <p>{t('pro.onlyProfessionals')} <Link to="/">{t('nav.signIn')}</Link></p>;
  const me = session.user.id;
  return (
    <>
      <h1>{t('pro.title')}</h1>
      <p className="muted">{t('pro.yourId')} <code data-testid="professional-id">{me}</code></p>
      <Calendar />
      <ProfileEditor me={me} />
      <ScheduleEditor me={me} />
      <TimeOffEditor />
      <DateOverridesEditor />
    </>
  );
}
