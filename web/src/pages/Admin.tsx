import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, type Page, type Professional, type Refund } from '../api';
import { AdminSections, ErrorText, OnlyAdmins } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

interface QueuedRefund extends Refund { appointmentId: string; invoiceId: string }

interface WaitingProfessional { profile: Professional; submittedAt: string }

type Decision = { kind: 'verified' | 'rejected'; profile: Professional };

/**
 * Rejecting one professional: a reason they will read (required, 1..500 characters), then a
 * confirmation; they may change their profile and save it to ask for a new review.
 */
function Reject({ p, onRejected }: { p: Professional; onRejected: (p: Professional) => void }) {
  const { t } = useTranslation();
  const { token } = useSession();
  const queries = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [confirming, setConfirming] = useState(false);
  const reject = useMutation({
    mutationFn: () => call<Professional>('POST', `/v1/admin/professionals/${encodeURIComponent(p.id)}/reject`, { token: token(), body: { reason: reason.trim() } }),
    onSuccess: (rejected) => {
      onRejected(rejected);
      void queries.invalidateQueries({ queryKey: ['admin-waiting'] });
    },
  });
  if (!open) return <button type="button" className="secondary" onClick={() => setOpen(true)}>{t('admin.reject')}</button>;
  const fieldId = `reject-reason-${p.id}`;
  return (
    <form className="stack reject" onSubmit={(e: FormEvent) => { e.preventDefault(); if (reason.trim()) setConfirming(true); }}>
      <label htmlFor={fieldId}>{t('admin.rejectReason')}</label>
      <textarea id={fieldId} className="prose" value={reason} onChange={(e) => { setReason(e.target.value); setConfirming(false); }} required maxLength={500} rows={3} disabled={confirming} />
      {!confirming ? (
        <div className="row">
          <button type="submit" className="danger" disabled={!reason.trim()}>{t('admin.rejectWithReason')}</button>
          <button type="button" className="secondary" onClick={() => { setOpen(false); setReason(''); }}>{t('admin.rejectCancel')}</button>
        </div>
      ) : (
        <div role="alertdialog" aria-labelledby={`${fieldId}-confirm`} className="stack">
          <p id={`${fieldId}-confirm`}><strong>{t('admin.rejectConfirm', { name: p.displayName })}</strong></p>
          <div className="row">
            <button type="button" className="danger" onClick={() => reject.mutate()} disabled={reject.isPending || reject.isSuccess}>{t('admin.rejectYes')}</button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={reject.isPending}>{t('admin.rejectNo')}</button>
          </div>
        </div>
      )}
      <ErrorText error={reject.error} />
    </form>
  );
}

/** One professional waiting, with what they declared, and the buttons that verify or reject them. */
function Waiting({ item, onDecided }: { item: WaitingProfessional; onDecided: (d: Decision) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const queries = useQueryClient();
  const { profile: p } = item;
  const verify = useMutation({
    mutationFn: () => call<Professional>('POST', `/v1/admin/professionals/${encodeURIComponent(p.id)}/verify`, { token: token() }),
    // The queue then drops them: the confirmation lives above it (Verification).
    onSuccess: (verified) => {
      onDecided({ kind: 'verified', profile: verified });
      void queries.invalidateQueries({ queryKey: ['admin-waiting'] });
    },
  });
  return (
    <li>
      <div>
        <h3>{p.displayName}</h3>
        <p>{(p.specialtyNames ?? p.specialties).join(', ')} · {[p.city, p.country].filter(Boolean).join(', ')} · {f.money(p.price)}</p>
        <p className="muted">{t('admin.submitted', { date: f.instant(item.submittedAt) })}</p>
      </div>
      <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending || verify.isSuccess}>{t('admin.verify')}</button>
      <ErrorText error={verify.error} />
      <Reject p={p} onRejected={(rejected) => onDecided({ kind: 'rejected', profile: rejected })} />
    </li>
  );
}

/** The verification queue: professionals waiting, oldest first (GET /v1/admin/professionals?status=pending). */
function Verification() {
  const { t } = useTranslation();
  const { token } = useSession();
  const [decided, setDecided] = useState<Decision | null>(null);
  const waiting = useQuery({
    queryKey: ['admin-waiting'],
    queryFn: () => call<{ items: WaitingProfessional[] }>('GET', '/v1/admin/professionals?status=pending&limit=50', { token: token() }),
  });
  return (
    <section aria-labelledby="verify-title" className="card">
      <h2 id="verify-title">{t('admin.verification')}</h2>
      {decided?.kind === 'verified' && (
        <p role="status" className="success">{t('admin.verified', { name: decided.profile.displayName })} <Link to={`/professionals/${decided.profile.id}`}>{t('admin.seePage')}</Link></p>
      )}
      {decided?.kind === 'rejected' && <p role="status" className="success">{t('admin.rejected', { name: decided.profile.displayName })}</p>}
      <ErrorText error={waiting.error} />
      {waiting.data && waiting.data.items.length === 0 && <p>{t('admin.noneWaiting')}</p>}
      {waiting.data && waiting.data.items.length > 0 && (
        <ul className="results" aria-label={t('admin.verification')}>
          {waiting.data.items.map((item) => <Waiting key={item.profile.id} item={item} onDecided={setDecided} />)}
        </ul>
      )}
    </section>
  );
}

function PayRefund({ refund }: { refund: QueuedRefund }) {
  const { t } = useTranslation();
  const { token } = useSession();
  const queries = useQueryClient();
  const [tx, setTx] = useState('');
  const paid = useMutation({
    mutationFn: () => call('POST', `/v1/admin/refunds/${encodeURIComponent(refund.id)}/paid`, { token: token(), body: { txReference: tx.trim() } }),
    onSuccess: () => queries.invalidateQueries({ queryKey: ['admin-refunds'] }),
  });
  return (
    <form className="row" onSubmit={(e: FormEvent) => { e.preventDefault(); paid.mutate(); }}>
      <label>{t('admin.txReference')}
        <input value={tx} onChange={(e) => setTx(e.target.value)} required minLength={8} maxLength={200} />
      </label>
      <button type="submit" disabled={paid.isPending}>{t('admin.markPaid')}</button>
      <ErrorText error={paid.error} />
    </form>
  );
}

function RefundQueue() {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const [status, setStatus] = useState<'due' | 'paid'>('due');
  const refunds = useQuery({
    queryKey: ['admin-refunds', status],
    queryFn: () => call<Page<QueuedRefund>>('GET', `/v1/admin/refunds?status=${status}`, { token: token() }),
  });
  return (
    <section aria-labelledby="refunds-title" className="card">
      <h2 id="refunds-title">{t('admin.refunds')}</h2>
      <label>{t('admin.show')}
        <select value={status} onChange={(e) => setStatus(e.target.value as 'due' | 'paid')}>
          <option value="due">{t('admin.due')}</option>
          <option value="paid">{t('admin.paid')}</option>
        </select>
      </label>
      <ErrorText error={refunds.error} />
      {refunds.data && refunds.data.items.length === 0 && <p>{t('admin.noRefunds')}</p>}
      {refunds.data && refunds.data.items.length > 0 && (
        <ul className="results" aria-label={t('admin.refunds')}>
          {refunds.data.items.map((r) => (
            <li key={r.id}>
              <div>
                <h3>{f.sats(r.sats)}</h3>
                <p>{r.reason} · {f.instant(r.createdAt)}</p>
                <p className="muted">{r.destination ? t('booking.refundTo', { destination: r.destination }) : t('admin.noDestination')}</p>
                {r.txReference && <p className="muted">{r.txReference}</p>}
              </div>
              {r.status !== 'paid' && <PayRefund refund={r} />}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** The admin's day: verifications and refunds (the audit trail has its own page, AdminAudit). */
export default function AdminPage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  if (restoring) return <p>{t('common.loading')}</p>;
  if (session?.user.role !== 'admin') return <OnlyAdmins />;
  return (
    <>
      <AdminSections current="/admin" />
      <h1>{t('admin.title')}</h1>
      <Verification />
      <RefundQueue />
    </>
  );
}
