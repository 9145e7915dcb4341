import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, call } from '../api';
import { ErrorText } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

interface ConsentState { kind: string; currentVersion: string; state: 'given' | 'outdated' | 'withdrawn' | 'missing'; givenVersion: string | null; givenAt: string | null; withdrawnAt: string | null }

/**
 * GET /v1/me/export, saved as a JSON file. The route needs the bearer token, so a plain link
 * cannot download it: the page fetches it and hands the browser a blob to save.
 */
async function downloadExport(token: string | null): Promise<void> {
  const res = await fetch('/v1/me/export', { headers: { accept: 'application/json', authorization: `Bearer ${token ?? ''}` }, credentials: 'same-origin' });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    throw new ApiError(res.status, body?.error?.code ?? `HTTP_${res.status}`, body?.error?.message ?? `The request failed (HTTP ${res.status}).`);
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = `cryptocare-export-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The signed-in person's data (LPD / GDPR rights): export it, see their consents, erase the account. */
export function AccountPage() {
  const { t } = useTranslation();
  const f = useFormat();
  const navigate = useNavigate();
  const { session, restoring, token, signOut } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [confirmingSignOut, setConfirmingSignOut] = useState(false);
  const consents = useQuery({
    queryKey: ['consents', session?.user.id],
    queryFn: () => call<{ consents: ConsentState[]; pending: string[] }>('GET', '/v1/me/consents', { token: token() }),
    enabled: !!session,
  });
  const exporting = useMutation({ mutationFn: () => downloadExport(token()) });
  const erase = useMutation({
    mutationFn: () => call<{ status: string; erasedAt: string }>('DELETE', '/v1/me', { token: token() }),
    onSuccess: async () => {
      await signOut();
      void navigate('/');
    },
  });
  // Every session of the account ends (other browsers and devices, and this one): then signed out here too.
  const signOutEverywhere = useMutation({
    mutationFn: () => call<null>('POST', '/v1/auth/logout-all', { token: token() }),
    onSuccess: async () => {
      await signOut();
      void navigate('/');
    },
  });
  if (!session) return restoring ? <p>{t('common.loading')}</p> : <p>{t('common.signInFirst')} <Link to="/">{t('nav.signIn')}</Link></p>;
  return (
    <>
      <h1>{t('myData.title')}</h1>
      <section aria-labelledby="export-title" className="card">
        <h2 id="export-title">{t('myData.exportTitle')}</h2>
        <p>{t('myData.exportText')}</p>
        <button type="button" onClick={() => exporting.mutate()} disabled={exporting.isPending}>{t('myData.export')}</button>
        {exporting.isSuccess && <p role="status" className="success">{t('myData.exported')}</p>}
        <ErrorText error={exporting.error} />
      </section>
      <section aria-labelledby="consents-title" className="card">
        <h2 id="consents-title">{t('myData.consentsTitle')}</h2>
        <ErrorText error={consents.error} />
        {consents.isPending && <p>{t('common.loading')}</p>}
        {consents.data && (
          <ul className="plain-list" aria-label={t('myData.consentsTitle')}>
            {consents.data.consents.map((c) => (
              <li key={c.kind}>
                <strong>{t(`myData.kind.${c.kind}`, { defaultValue: c.kind })}</strong>{' '}
                · {t(`myData.state.${c.state}`, { defaultValue: c.state })}
                {c.givenAt && c.state !== 'withdrawn' && <> · {t('myData.givenAt', { version: c.givenVersion ?? '', time: f.instant(c.givenAt) })}</>}
                {c.withdrawnAt && c.state === 'withdrawn' && <> · {f.instant(c.withdrawnAt)}</>}
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="sign-out-all-title" className="card">
        <h2 id="sign-out-all-title">{t('myData.signOutAllTitle')}</h2>
        <p>{t('myData.signOutAllText')}</p>
        {!confirmingSignOut ? (
          <button type="button" className="secondary" onClick={() => setConfirmingSignOut(true)}>{t('myData.signOutAll')}</button>
        ) : (
          <div role="alertdialog" aria-labelledby="sign-out-all-confirm" className="stack">
            <p id="sign-out-all-confirm"><strong>{t('myData.signOutAllConfirm')}</strong></p>
            <div className="row">
              <button type="button" onClick={() => signOutEverywhere.mutate()} disabled={signOutEverywhere.isPending}>{t('myData.signOutAllYes')}</button>
              <button type="button" className="secondary" onClick={() => setConfirmingSignOut(false)} disabled={signOutEverywhere.isPending}>{t('myData.signOutAllNo')}</button>
            </div>
          </div>
        )}
        <ErrorText error={signOutEverywhere.error} />
      </section>
      <section aria-labelledby="erase-title" className="card">
        <h2 id="erase-title">{t('myData.eraseTitle')}</h2>
        <p>{t('myData.eraseText')}</p>
        {!confirming ? (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>{t('myData.erase')}</button>
        ) : (
          <div role="alertdialog" aria-labelledby="erase-confirm" className="stack">
            <p id="erase-confirm"><strong>{t('myData.eraseConfirm')}</strong></p>
            <div className="row">
              <button type="button" className="danger" onClick={() => erase.mutate()} disabled={erase.isPending}>{t('myData.eraseYes')}</button>
              <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={erase.isPending}>{t('myData.eraseNo')}</button>
            </div>
          </div>
        )}
        <ErrorText error={erase.error} />
      </section>
    </>
  );
}
