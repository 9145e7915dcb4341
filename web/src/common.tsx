import { useEffect, useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError, call, type Appointment, type CodeName, type Professional } from './api';
import { useFormat } from './format';
import { useSession } from './session';

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function ErrorText({ error }: { error: unknown }) {
  if (!error) return null;
  return <p role="alert" className="error">{messageOf(error)}</p>;
}

/** The current time, ticking every `everyMs` (countdowns, "join now"). */
export function useNow(everyMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/**
 * The profile the gateway put in a professional's page (services/gateway/src/web-client.ts), as
 * GET /v1/professionals/{id} answers it: the page shows it at its first render.
 */
function servedProfessional(id: string | undefined): Professional | undefined {
  if (!id || typeof document === 'undefined') return undefined;
  try {
    const served = JSON.parse(document.getElementById('professional-data')?.textContent ?? 'null') as Professional | null;
    return served?.id === id ? served : undefined;
  } catch {
    return undefined;
  }
}

/** A professional's public profile, cached for the page (names in lists, the booking page). */
export function useProfessional(id: string | undefined) {
  return useQuery({
    queryKey: ['professional', id],
    queryFn: () => call<Professional>('GET', `/v1/professionals/${encodeURIComponent(id!)}`),
    initialData: () => servedProfessional(id),
    initialDataUpdatedAt: () => performance.timeOrigin,
    enabled: !!id,
    staleTime: 5 * 60_000,
    retry: (count, err) => !(err instanceof ApiError && err.status < 500) && count < 2,
  });
}

/** As the gateway (JOIN_OPENS_BEFORE_MS): a consultation can be joined from 10 minutes before its start until its end. */
export const JOIN_OPENS_BEFORE_MS = 10 * 60_000;

/**
 * "Join" for a confirmed consultation at the right time: the link comes from GET
 * /v1/appointments/{id}/join (the host link for the professional, the join link for the patient),
 * asked only once the consultation is open. Before: when it opens.
 */
export function JoinLink({ appointment }: { appointment: Appointment }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const now = useNow(15_000);
  const opensAt = Date.parse(appointment.start) - JOIN_OPENS_BEFORE_MS;
  const open = appointment.status === 'confirmed' && now >= opensAt && now < Date.parse(appointment.end);
  const link = useQuery({
    queryKey: ['join', appointment.id],
    queryFn: () => call<{ url: string }>('GET', `/v1/appointments/${encodeURIComponent(appointment.id)}/join`, { token: token() }),
    enabled: open,
  });
  if (appointment.status !== 'confirmed' || now >= Date.parse(appointment.end)) return null;
  if (!open) return <p className="muted">{t('join.opensAt', { time: f.instant(new Date(opensAt).toISOString()) })}</p>;
  const url = link.data?.url;
  if (link.error) return <ErrorText error={link.error} />;
  if (!url) return <p className="muted">{t('common.loading')}</p>;
  return <a className="button" href={url} target="_blank" rel="noopener noreferrer">{t('join.now')}</a>;
}

/** Specialties or countries, named in the page's language (the API answers by Accept-Language). */
export function useReference(kind: 'specialties' | 'countries') {
  const { i18n } = useTranslation();
  return useQuery({ queryKey: [kind, i18n.language], queryFn: () => call<{ items: CodeName[] }>('GET', `/v1/${kind}`), staleTime: 3_600_000 });
}

const ADMIN_SECTIONS = [
  ['/admin', 'admin.queues'],
  ['/admin/audit', 'audit.title'],
  ['/admin/ledger', 'ledger.title'],
] as const;

/** The admin's pages, each linking the others. */
export function AdminSections({ current }: { current: (typeof ADMIN_SECTIONS)[number][0] }) {
  const { t } = useTranslation();
  return (
    <nav aria-label={t('admin.sections')} className="row">
      {ADMIN_SECTIONS.filter(([to]) => to !== current).map(([to, label]) => <Link key={to} to={to}>{t(label)}</Link>)}
    </nav>
  );
}

/** What a page for admins shows anyone else. */
export function OnlyAdmins() {
  const { t } = useTranslation();
  return <p>{t('admin.onlyAdmins')} <Link to="/">{t('nav.signIn')}</Link></p>;
}
