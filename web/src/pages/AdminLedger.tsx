import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import type { Success } from '../api/client';
import { apiError, useApi } from '../api/use-api';
import { AdminSections, ErrorText, OnlyAdmins } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

type Report = Success<'getLedgerReconciliation'>;
type Row = Report['rows'][number];

/** As payment (MAX_RECONCILIATION_DAYS): one report covers at most 92 days. */
const MAX_DAYS = 92;
const DEFAULT_DAYS = 7;

/** Local midnight of a YYYY-MM-DD date plus `days`, as the instant the API takes. */
function localMidnight(date: string, days = 0): number {
  const [y, m, d] = date.split('-').map(Number);
  // setFullYear: new Date(y, …) would read years 0–99 as 1900–1999.
  const t = new Date(2000, 0, 1);
  t.setFullYear(y!, m! - 1, d! + days);
  return t.getTime();
}

/** A local date `days` from today, as an <input type="date"> takes it. */
function localDate(days = 0): string {
  const d = new Date();
  d.setDate(d.getDate() + days);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

interface Range { from: string; to: string }

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** The form's dates (the "to" day included) as the API's [from, to) instants, or why not. */
function rangeOf(from: string, to: string): { range: Range } | { problem: 'missing' | 'order' | 'tooWide' } {
  // An emptied or half-typed date field gives '' (not a date to compute with).
  if (!DATE.test(from) || !DATE.test(to)) return { problem: 'missing' };
  const start = new Date(localMidnight(from)), end = new Date(localMidnight(to, 1));
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) return { problem: 'missing' };
  const range = { from: start.toISOString(), to: end.toISOString() };
  const span = Date.parse(range.to) - Date.parse(range.from);
  if (!(span > 0)) return { problem: 'order' };
  if (span > MAX_DAYS * 86_400_000) return { problem: 'tooWide' };
  return { range };
}

/**
 * The report as the accountant's CSV file. The route needs the admin's bearer token, so a plain
 * link cannot download it: the page fetches it and hands the browser a blob to save.
 */
async function downloadCsv(range: Range, token: string | null): Promise<void> {
  const query = new URLSearchParams({ ...range, format: 'csv' });
  const res = await fetch(`/v1/admin/ledger/reconciliation?${query}`, { headers: { accept: 'text/csv', authorization: `Bearer ${token ?? ''}` }, credentials: 'same-origin' });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `The request failed (HTTP ${res.status}).`);
  }
  const named = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1];
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = named ?? `reconciliation-${range.from.slice(0, 10)}.csv`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** One invoice: what our ledger received against what its provider says. */
function ReportRow({ row }: { row: Row }) {
  const { t } = useTranslation();
  const f = useFormat();
  return (
    <tr data-outcome={row.outcome}>
      <td><time dateTime={row.createdAt}>{f.instant(row.createdAt)}</time></td>
      <td><Link className="ids" to={`/bookings/${row.appointmentId}`}>{row.appointmentId}</Link></td>
      <td>{row.provider}</td>
      <td className="num">{f.sats(row.dueSats)}</td>
      <td className="num">{f.sats(row.ledgerPaidSats)}<br /><span className="muted">{f.minor(row.ledgerPaidFiatMinor, row.currency)}</span></td>
      <td className="num">{row.providerPaidSats === null ? '—' : f.sats(row.providerPaidSats)}</td>
      <td>{row.providerState}</td>
      <td><span className={`outcome ${row.outcome}`}>{t(`ledger.outcome.${row.outcome}`)}</span></td>
    </tr>
  );
}

/** The accountant's reconciliation (GET /v1/admin/ledger/reconciliation): a date range, a row per invoice, the CSV. */
export default function AdminLedgerPage() {
  const { t } = useTranslation();
  const api = useApi();
  const { session, restoring, token } = useSession();
  const [from, setFrom] = useState(() => localDate(-(DEFAULT_DAYS - 1)));
  const [to, setTo] = useState(() => localDate());
  const [problemsOnly, setProblemsOnly] = useState(false);
  // The range asked for, with a count so that asking again for the same range reads the providers afresh.
  const [asked, setAsked] = useState<{ range: Range; n: number } | null>(null);
  const checked = rangeOf(from, to);
  const isAdmin = session?.user.role === 'admin';
  const report = useQuery({
    queryKey: ['admin-reconciliation', asked],
    queryFn: async () => {
      const { data, error, response } = await api.GET('/v1/admin/ledger/reconciliation', { params: { query: asked!.range } });
      if (!data) throw apiError(response, error);
      return data;
    },
    enabled: isAdmin && !!asked,
    retry: false,
  });
  const csv = useMutation({ mutationFn: (range: Range) => downloadCsv(range, token()) });
  if (restoring) return <p>{t('common.loading')}</p>;
  if (!isAdmin) return <OnlyAdmins />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if ('range' in checked) setAsked((a) => ({ range: checked.range, n: (a?.n ?? 0) + 1 }));
  };
  const data = report.data;
  const rows = (data?.rows ?? []).filter((r) => !problemsOnly || r.outcome === 'mismatch' || r.outcome === 'unknown');
  return (
    <div className="wide-page">
      <AdminSections current="/admin/ledger" />
      <h1>{t('ledger.title')}</h1>
      <p className="muted">{t('ledger.intro')}</p>
      <section aria-labelledby="ledger-range" className="card">
        <h2 id="ledger-range">{t('ledger.range')}</h2>
        <form className="search-form" onSubmit={submit} noValidate>
          <label>{t('ledger.from')}
            <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} min="2020-01-01" max="2099-12-31" required aria-describedby="ledger-range-problem" />
          </label>
          <label>{t('ledger.to')}
            <input type="date" value={to} onChange={(e) => setTo(e.target.value)} min="2020-01-01" max="2099-12-31" required aria-describedby="ledger-range-problem" />
          </label>
          <div className="wide row">
            <button type="submit" disabled={!('range' in checked) || report.isFetching}>{t('ledger.reconcile')}</button>
            <button type="button" className="secondary" disabled={!('range' in checked) || csv.isPending} onClick={() => 'range' in checked && csv.mutate(checked.range)}>{t('ledger.downloadCsv')}</button>
          </div>
        </form>
        <p id="ledger-range-problem" role="alert" className={'problem' in checked ? 'error' : 'visually-hidden'}>
          {'problem' in checked ? t(`ledger.problem.${checked.problem}`, { days: MAX_DAYS }) : ''}
        </p>
        {csv.isSuccess && <p role="status" className="success">{t('ledger.downloaded')}</p>}
        <ErrorText error={csv.error} />
      </section>
      {asked && (
        <section aria-labelledby="ledger-report" className="card">
          <h2 id="ledger-report">{t('ledger.report')}</h2>
          {report.isFetching && <p aria-live="polite">{t('ledger.reading')}</p>}
          <ErrorText error={report.error} />
          {data && (
            <>
              <dl className="totals" data-testid="reconciliation-totals">
                <dt>{t('ledger.invoices')}</dt><dd>{data.rows.length}</dd>
                <dt>{t('ledger.mismatches')}</dt><dd>{data.mismatches}</dd>
                <dt>{t('ledger.unknown')}</dt><dd>{data.unknown}</dd>
              </dl>
              {data.truncated && <p role="status" className="error">{t('ledger.truncated', { count: data.rows.length })}</p>}
              <label className="inline">
                <input type="checkbox" checked={problemsOnly} onChange={(e) => setProblemsOnly(e.target.checked)} />
                <span>{t('ledger.problemsOnly')}</span>
              </label>
              {rows.length === 0 ? <p>{t('ledger.none')}</p> : (
                <div className="table-scroll" role="region" aria-label={t('ledger.caption')} tabIndex={0}>
                  <table>
                    <caption className="visually-hidden">{t('ledger.caption')}</caption>
                    <thead>
                      <tr>
                        <th scope="col">{t('ledger.col.created')}</th>
                        <th scope="col">{t('ledger.col.booking')}</th>
                        <th scope="col">{t('ledger.col.provider')}</th>
                        <th scope="col">{t('ledger.col.due')}</th>
                        <th scope="col">{t('ledger.col.ledger')}</th>
                        <th scope="col">{t('ledger.col.providerPaid')}</th>
                        <th scope="col">{t('ledger.col.providerState')}</th>
                        <th scope="col">{t('ledger.col.outcome')}</th>
                      </tr>
                    </thead>
                    <tbody>
                      {rows.map((row) => <ReportRow key={row.invoiceId} row={row} />)}
                    </tbody>
                  </table>
                </div>
              )}
            </>
          )}
        </section>
      )}
    </div>
  );
}
