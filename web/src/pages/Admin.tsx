import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, type Page, type Professional, type Refund } from '../api';
import { ErrorText } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

interface QueuedRefund extends Refund { appointmentId: string; invoiceId: string }

interface WaitingProfessional { profile: Professional; submittedAt: string }

/** One professional waiting, with what they declared, and the button that verifies them. */
function Waiting({ item, onVerified }: { item: WaitingProfessional; onVerified: (p: Professional) => void }) {
  const { t } = useTranslation();
  const f = useFormat();
  const { token } = useSession();
  const queries = useQueryClient();
  const { profile: p } = item;
  const verify = useMutation({
    mutationFn: () => call<Professional>('POST', `/v1/admin/professionals/${encodeURIComponent(p.id)}/verify`, { token: token() }),
    // The queue then drops them: the confirmation lives above it (Verification).
    onSuccess: (verified) => {
      onVerified(verified);
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
    </li>
  );
}

/** The verification queue: professionals waiting, oldest first (GET /v1/admin/professionals?status=pending). */
function Verification() {
  const { t } = useTranslation();
  const { token } = useSession();
  const [verified, setVerified] = useState<Professional | null>(null);
  const waiting = useQuery({
    queryKey: ['admin-waiting'],
    queryFn: () => call<{ items: WaitingProfessional[] }>('GET', '/v1/admin/professionals?status=pending&limit=50', { token: token() }),
  });
  return (
    <section aria-labelledby="verify-title" className="card">
      <h2 id="verify-title">{t('admin.verification')}</h2>
      {verified && (
        <p role="status" className="success">{t('admin.verified', { name: verified.displayName })} <Link to={`/professionals/${verified.id}`}>{t('admin.seePage')}</Link></p>
      )}
      <ErrorText error={waiting.error} />
      {waiting.data && waiting.data.items.length === 0 && <p>{t('admin.noneWaiting')}</p>}
      {waiting.data && waiting.data.items.length > 0 && (
        <ul className="results" aria-label={t('admin.verification')}>
          {waiting.data.items.map((item) => <Waiting key={item.profile.id} item={item} onVerified={setVerified} />)}
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

/** The admin's day: verifications and refunds. */
export default function AdminPage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  if (restoring) return <p>{t('common.loading')}</p>;
  if (session?.user.role !== 'admin') return <p>{t('admin.onlyAdmins')} <Link to="/">{t('nav.signIn')}</Link></p>;
  return (
    <>
      <h1>{t('admin.title')}</h1>
      <Verification />
      <RefundQueue />
    </>
  );
}
