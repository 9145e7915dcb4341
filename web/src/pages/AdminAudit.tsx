import { useState, type FormEvent } from 'react';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import type { operations } from '../api/schema';
import type { Success } from '../api/client';
import { apiError, useApi } from '../api/use-api';
import { AdminSections, ErrorText, OnlyAdmins } from '../common';
import { useSession } from '../session';

type AuditQuery = NonNullable<operations['listAuditEntries']['parameters']['query']>;
type AuditKind = NonNullable<AuditQuery['kind']>;
type AuditEntry = Success<'listAuditEntries'>['items'][number];

/** The kinds an admin filters by (libs/contracts/src/audit.ts; the compiler checks each against the API's list). */
const KINDS: readonly AuditKind[] = [
  'auth.signed_in',
  'auth.sign_in_failed',
  'auth.refresh_reused',
  'auth.signed_out',
  'auth.signed_out_everywhere',
  'account.registered',
  'account.email_verified',
  'account.password_reset',
  'account.password_changed',
  'account.role_changed',
  'account.exported',
  'account.erased',
  'consent.granted',
  'consent.withdrawn',
  'professional.verified',
  'professional.rejected',
  'patient.names_read',
  'booking.read_by_professional',
  'booking.read_by_admin',
  'payment.refund_due',
  'payment.refund_destination_set',
  'payment.refund_paid',
  'admin.audit_read',
  'audit.pruned',
];

const PAGE_SIZE = 50;
const UUID_PATTERN = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

interface Filters { kind: AuditKind | ''; actor: string; subject: string; from: string; to: string }
const NO_FILTERS: Filters = { kind: '', actor: '', subject: '', from: '', to: '' };

/** Local midnight of a YYYY-MM-DD date plus `days`, as the instant the API takes. */
function localMidnight(date: string, days = 0): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y!, m! - 1, d! + days).toISOString();
}

/**
 * The instants the API takes (services/gateway/src/input-rules.ts): 2000 to 2100, UTC. Midnight of
 * 1 January 2000 east of Greenwich is still 1999 there: a "from" before the range, or a "to" after
 * it, is left out (no entry lies beyond it, so the answer is the same).
 */
const API_FIRST_INSTANT = Date.UTC(2000, 0, 1);
const API_END_INSTANT = Date.UTC(2100, 0, 1);
const fromBound = (iso: string) => (Date.parse(iso) < API_FIRST_INSTANT ? undefined : iso);
const toBound = (iso: string) => (Date.parse(iso) >= API_END_INSTANT ? undefined : iso);

/** The form's filters as the API's query: dates in the admin's time zone, the "to" day included (the API's `to` is exclusive). */
function queryOf(f: Filters): AuditQuery {
  return {
    kind: f.kind || undefined,
    actor: f.actor.trim() || undefined,
    subject: f.subject.trim() || undefined,
    from: f.from ? fromBound(localMidnight(f.from)) : undefined,
    to: f.to ? toBound(localMidnight(f.to, 1)) : undefined,
  };
}

/** One entry: when, what, who and about whom, and its details as recorded (codes and ids). */
function Entry({ entry }: { entry: AuditEntry }) {
  const { t, i18n } = useTranslation();
  const when = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(entry.occurredAt));
  const details = Object.entries(entry.details);
  return (
    <li>
      <div>
        <h3 className="ids">{entry.kind}</h3>
        <p><time dateTime={entry.occurredAt}>{when}</time> · #{entry.seq} · {entry.source}</p>
        <dl className="audit-fields">
          {entry.actorId && <><dt>{t('audit.actorCol')}</dt><dd className="ids">{entry.actorId}</dd></>}
          {entry.subjectId && <><dt>{t('audit.subjectCol')}</dt><dd className="ids">{entry.subjectId}</dd></>}
          {entry.objectId && <><dt>{t('audit.object')}</dt><dd className="ids">{entry.objectId}</dd></>}
          {details.length > 0 && <><dt>{t('audit.details')}</dt><dd className="ids">{details.map(([k, v]) => `${k}: ${v}`).join(', ')}</dd></>}
        </dl>
        {entry.pruned && <p className="muted">{t('audit.pruned')}</p>}
      </div>
    </li>
  );
}

/** GET /v1/admin/audit, newest first, a page of 50 at a time (by cursor). */
function useAudit(filters: Filters, asked: number, enabled: boolean) {
  const api = useApi();
  return useInfiniteQuery({
    // `asked` counts the form's submissions: asking again with the same filters reads the trail afresh.
    queryKey: ['admin-audit', filters, asked],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => {
      const { data, error, response } = await api.GET('/v1/admin/audit', { params: { query: { ...queryOf(filters), cursor: pageParam, limit: PAGE_SIZE } } });
      if (!data) throw apiError(response, error);
      return data;
    },
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled,
  });
}

/** The admin's audit trail viewer: filters, entries newest first, "more" by cursor. */
export default function AdminAuditPage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [applied, setApplied] = useState<{ filters: Filters; asked: number }>({ filters: NO_FILTERS, asked: 0 });
  const isAdmin = session?.user.role === 'admin';
  const audit = useAudit(applied.filters, applied.asked, isAdmin);
  if (restoring) return <p>{t('common.loading')}</p>;
  if (!isAdmin) return <OnlyAdmins />;
  const set = (field: keyof Filters) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied((a) => ({ filters: draft, asked: a.asked + 1 }));
  };
  const items = audit.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <>
      <AdminSections current="/admin/audit" />
      <h1>{t('audit.title')}</h1>
      <p className="muted">{t('audit.intro')}</p>
      <section aria-labelledby="audit-filters" className="card">
        <h2 id="audit-filters">{t('audit.filters')}</h2>
        <form className="search-form" onSubmit={submit}>
          <label>{t('audit.kind')}
            <select value={draft.kind} onChange={set('kind')}>
              <option value="">{t('audit.anyKind')}</option>
              {KINDS.map((k) => <option key={k} value={k}>{k}</option>)}
            </select>
          </label>
          <label>{t('audit.actor')}
            <input value={draft.actor} onChange={set('actor')} pattern={UUID_PATTERN} title={t('audit.idHint')} spellCheck={false} autoComplete="off" />
          </label>
          <label>{t('audit.subject')}
            <input value={draft.subject} onChange={set('subject')} pattern={UUID_PATTERN} title={t('audit.idHint')} spellCheck={false} autoComplete="off" />
          </label>
          <label>{t('audit.from')}
            <input type="date" value={draft.from} onChange={set('from')} min="2000-01-01" max="2099-12-31" />
          </label>
          <label>{t('audit.to')}
            <input type="date" value={draft.to} onChange={set('to')} min="2000-01-01" max="2099-12-31" />
          </label>
          <div className="wide">
            <button type="submit">{t('audit.apply')}</button>
          </div>
        </form>
      </section>
      <section aria-labelledby="audit-entries" className="card">
        <h2 id="audit-entries">{t('audit.entries')}</h2>
        <ErrorText error={audit.error} />
        {audit.isPending && <p>{t('common.loading')}</p>}
        {audit.isSuccess && items.length === 0 && <p>{t('audit.none')}</p>}
        {items.length > 0 && (
          <ul className="results" aria-label={t('audit.entries')}>
            {items.map((entry) => <Entry key={entry.seq} entry={entry} />)}
          </ul>
        )}
        {audit.hasNextPage && (
          <button type="button" className="secondary" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>{t('audit.more')}</button>
        )}
        {audit.isSuccess && items.length > 0 && !audit.hasNextPage && <p className="muted">{t('audit.end')}</p>}
      </section>
    </>
  );
}
