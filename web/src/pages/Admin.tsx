import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, type Page, type Professional, type Refund } from '../api';
import { ErrorText } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

interface QueuedRefund extends Refund { appointmentId: string; invoiceId: string }

/**
 * Verification. TODO(#11): the queue of professionals waiting (with what they declared) needs its
 * list route (GET /v1/admin/professionals?status=pending, with the openapi work) and rejecting one
 * needs a reject route; until then an admin verifies a professional by id.
 */
function Verification() {
  const { t } = useTranslation();
  const { token } = useSession();
  const [id, setId] = useState('');
  const verify = useMutation({
    mutationFn: (professionalId: string) => call<Professional>('POST', `/v1/admin/professionals/${encodeURIComponent(professionalId)}/verify`, { token: token() }),
  });
  return (
    <section aria-labelledby="verify-title" className="card">
      <h2 id="verify-title">{t('admin.verification')}</h2>
      <p className="muted">{t('admin.queueMissing')}</p>
      <form className="row" onSubmit={(e: FormEvent) => { e.preventDefault(); verify.mutate(id.trim()); }}>
        <label className="wide">{t('admin.professionalId')}
          <input value={id} onChange={(e) => setId(e.target.value)} required pattern="[0-9a-fA-F-]{36}" />
        </label>
        <button type="submit" disabled={verify.isPending}>{t('admin.verify')}</button>
      </form>
      <ErrorText error={verify.error} />
      {verify.data && (
        <p role="status" className="success">
          {t('admin.verified', { name: verify.data.displayName })} <Link to={`/professionals/${verify.data.id}`}>{t('admin.seePage')}</Link>
        </p>
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
