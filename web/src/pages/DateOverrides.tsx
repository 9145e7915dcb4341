import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, call } from '../api';
import { ErrorText } from '../common';
import { useSession } from '../session';

interface ClockRange { start: string; end: string }
interface DateOverride { date: string; closed: boolean; ranges: ClockRange[] }

/**
 * Date overrides: on one date (of the schedule's time zone) the professional's own openings instead
 * of the weekly schedule, or closed; removing one goes back to the weekly schedule.
 */
export function DateOverridesEditor() {
  const { t, i18n } = useTranslation();
  const { token, session } = useSession();
  const queries = useQueryClient();
  const key = ['date-overrides', session?.user.id];
  const list = useQuery({
    queryKey: key,
    // Before the weekly schedule is saved there are none (404 SCHEDULE_NOT_FOUND): nothing to list, no
    // error; saving the schedule reads them again (ScheduleForm).
    queryFn: async () => {
      try {
        return await call<{ timeZone: string; items: DateOverride[] }>('GET', '/v1/professionals/me/date-overrides', { token: token() });
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    enabled: !!session,
  });
  const [date, setDate] = useState('');
  const [ranges, setRanges] = useState<ClockRange[]>([{ start: '09:00', end: '12:00' }]);
  const saved = () => void queries.invalidateQueries({ queryKey: key });
  const put = useMutation({
    mutationFn: (body: { ranges: ClockRange[] }) =>
      call<DateOverride>('PUT', `/v1/professionals/me/date-overrides/${encodeURIComponent(date)}`, { token: token(), body }),
    onSuccess: saved,
  });
  const remove = useMutation({
    mutationFn: (d: string) => call('DELETE', `/v1/professionals/me/date-overrides/${encodeURIComponent(d)}`, { token: token() }),
    onSuccess: saved,
  });
  const change = (i: number, patch: Partial<ClockRange>) => setRanges(ranges.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  // A calendar date, not an instant: formatted at noon UTC so no time zone moves it to another day.
  const day = (d: string) => new Intl.DateTimeFormat(i18n.language, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${d}T12:00:00Z`));
  return (
    <section aria-labelledby="overrides-title" className="card">
      <h2 id="overrides-title">{t('overrides.title')}</h2>
      <p className="muted">{t('overrides.help')}</p>
      <form className="stack" onSubmit={(e: FormEvent) => { e.preventDefault(); put.mutate({ ranges }); }}>
        <label>{t('overrides.date')}<input type="date" value={date} onChange={(e) => setDate(e.target.value)} required /></label>
        <ul className="plain-list" aria-label={t('overrides.ranges')}>
          {ranges.map((r, i) => (
            <li key={i} className="row">
              <label>{t('pro.from')}<input type="time" value={r.start} onChange={(e) => change(i, { start: e.target.value })} required /></label>
              <label>{t('pro.to')}<input type="time" value={r.end} onChange={(e) => change(i, { end: e.target.value })} required /></label>
              <button type="button" className="secondary" onClick={() => setRanges(ranges.filter((_, j) => j !== i))}>{t('pro.removeRange')}</button>
            </li>
          ))}
        </ul>
        <div className="row">
          <button type="button" className="secondary" onClick={() => setRanges([...ranges, { ...(ranges.at(-1) ?? { start: '09:00', end: '12:00' }) }])}>{t('pro.addRange')}</button>
          <button type="submit" disabled={put.isPending || ranges.length === 0}>{t('overrides.setHours')}</button>
          <button type="button" disabled={put.isPending || !date} onClick={() => put.mutate({ ranges: [] })}>{t('overrides.close')}</button>
        </div>
      </form>
      <ErrorText error={put.error ?? remove.error ?? list.error} />
      {list.data && (
        <>
          <p className="muted">{t('overrides.timeZone', { zone: list.data.timeZone })}</p>
          {list.data.items.length === 0 ? (
            <p className="muted">{t('overrides.none')}</p>
          ) : (
            <ul className="plain-list" aria-label={t('overrides.list')}>
              {list.data.items.map((o) => (
                <li key={o.date} className="row">
                  <span>
                    <strong>{day(o.date)}</strong>{' '}
                    {o.closed ? t('overrides.closed') : o.ranges.map((r) => `${r.start}–${r.end}`).join(', ')}
                  </span>
                  <button type="button" className="secondary" onClick={() => remove.mutate(o.date)} aria-label={t('overrides.removeFor', { date: day(o.date) })}>{t('pro.remove')}</button>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
