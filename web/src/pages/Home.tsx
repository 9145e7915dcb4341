import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { call, type Page, type Professional, type Role, type Session } from '../api';
import { ErrorText, messageOf, useReference } from '../common';
import { useFormat } from '../format';
import { useSession } from '../session';

/** Where each role's day starts after signing in. */
export const HOME_OF: Record<Role, string> = { patient: '/', professional: '/pro', admin: '/admin' };

/* ---------- Account: sign up (with consent) or sign in ---------- */

function AccountPanel() {
  const { t, i18n } = useTranslation();
  const { signedIn } = useSession();
  const navigate = useNavigate();
  const [mode, setMode] = useState<'register' | 'login'>('register');
  const [role, setRole] = useState<'patient' | 'professional'>('patient');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Signing up accepts the current consent documents, listed under the form (kind and version).
      const consents = mode === 'register'
        ? (await call<{ items: Array<{ kind: string; version: string }> }>('GET', '/v1/consent-documents')).items.map((d) => ({ kind: d.kind, version: d.version, lang: i18n.language }))
        : [];
      const s = mode === 'register'
        ? await call<Session>('POST', '/v1/auth/register', { body: { email, password, role, displayName, consents } })
        : await call<Session>('POST', '/v1/auth/login', { body: { email, password } });
      setPassword('');
      signedIn(s);
      if (s.user.role !== 'patient') navigate(HOME_OF[s.user.role]);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="account-title" className="card">
      <h2 id="account-title">{mode === 'register' ? t('account.createTitle') : t('account.loginTitle')}</h2>
      <form onSubmit={submit} className="stack">
        {mode === 'register' && (
          <>
            <fieldset className="row plain">
              <legend>{t('account.iAm')}</legend>
              <label className="inline"><input type="radio" name="role" checked={role === 'patient'} onChange={() => setRole('patient')} /> {t('account.rolePatient')}</label>
              <label className="inline"><input type="radio" name="role" checked={role === 'professional'} onChange={() => setRole('professional')} /> {t('account.roleProfessional')}</label>
            </fieldset>
            <label>{t('account.name')}
              <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required autoComplete="name" />
            </label>
          </>
        )}
        <label>{t('account.email')}
          <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        </label>
        <label>{t('account.password')}
          <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={mode === 'register' ? 10 : undefined}
            autoComplete={mode === 'register' ? 'new-password' : 'current-password'} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        {mode === 'register' && (
          <p className="hint">{t('account.consent')} <a href="/v1/consent-documents" target="_blank" rel="noreferrer">{t('account.readThem')}</a></p>
        )}
        <div className="row">
          <button type="submit" disabled={busy}>{mode === 'register' ? t('account.signUp') : t('account.logIn')}</button>
          <button type="button" className="link" onClick={() => { setMode(mode === 'register' ? 'login' : 'register'); setError(null); }}>
            {mode === 'register' ? t('account.haveAccount') : t('account.createInstead')}
          </button>
        </div>
      </form>
    </section>
  );
}

/* ---------- Links from account mails (verification, password reset) and "forgot password" ---------- */

/** The mailed links are `/#/verify-email?token=…` and `/#/reset-password?token=…`: the token stays in the fragment. */
function mailLink(): { kind: 'verify' | 'reset'; token: string } | null {
  const match = /^#\/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  return match ? { kind: match[1] === 'verify-email' ? 'verify' : 'reset', token: match[2]! } : null;
}

function MailLinkPanel() {
  const { t } = useTranslation();
  const [link] = useState(mailLink);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [forgotEmail, setForgotEmail] = useState('');

  useEffect(() => {
    if (link?.kind !== 'verify') return;
    call('POST', '/v1/auth/verify-email', { body: { token: link.token } }).then(
      () => setStatus(t('mail.verified')),
      (err) => setError(messageOf(err)),
    );
    window.history.replaceState(null, '', window.location.pathname);
  }, [link, t]);

  async function reset(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('POST', '/v1/auth/password-reset/confirm', { body: { token: link!.token, newPassword: password } });
      setPassword('');
      setStatus(t('mail.passwordChanged'));
      window.history.replaceState(null, '', window.location.pathname);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  async function forgot(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await call('POST', '/v1/auth/password-reset', { body: { email: forgotEmail } });
      setStatus(t('mail.resetSent'));
    } catch (err) {
      setError(messageOf(err));
    }
  }

  if (link?.kind === 'reset' && !status) {
    return (
      <section aria-labelledby="reset-title" className="card">
        <h2 id="reset-title">{t('mail.newPasswordTitle')}</h2>
        <form onSubmit={reset} className="stack">
          <label>{t('mail.newPassword')}
            <input name="newPassword" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={10} autoComplete="new-password" />
          </label>
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" disabled={busy}>{t('mail.setPassword')}</button>
        </form>
      </section>
    );
  }
  return (
    <section aria-label={t('mail.trouble')} className="card">
      {status && <p role="status">{status}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      <details>
        <summary>{t('mail.forgot')}</summary>
        <form onSubmit={forgot} className="row">
          <input name="forgotEmail" type="email" value={forgotEmail} onChange={(e) => setForgotEmail(e.target.value)} required autoComplete="email" aria-label={t('mail.resetAddress')} />
          <button type="submit" className="secondary">{t('mail.sendLink')}</button>
        </form>
      </details>
    </section>
  );
}

/* ---------- Search: specialty, place (near me or a city/country), language, price, date ---------- */

const SEARCH_FIELDS = ['specialty', 'country', 'q', 'language', 'maxPrice', 'before', 'lat', 'lng'] as const;

function SearchPanel() {
  const { t } = useTranslation();
  const f = useFormat();
  const [params, setParams] = useSearchParams();
  const [form, setForm] = useState(() => Object.fromEntries(SEARCH_FIELDS.map((k) => [k, params.get(k) ?? ''])) as Record<(typeof SEARCH_FIELDS)[number], string>);
  const [placeError, setPlaceError] = useState<string | null>(null);
  const set = (k: (typeof SEARCH_FIELDS)[number]) => (e: { target: { value: string } }) => setForm((prev) => ({ ...prev, [k]: e.target.value }));

  const specialties = useReference('specialties');
  const countries = useReference('countries');
  const names = new Map((specialties.data?.items ?? []).map((s) => [s.code, s.name]));

  // The search is in the URL (shareable, survives a reload); it runs once asked.
  const searched = params.has('s');
  const query = new URLSearchParams();
  for (const k of SEARCH_FIELDS) {
    const v = params.get(k);
    if (!v) continue;
    // "Free before" is a day: free before the end of that day, in the patient's time zone.
    if (k === 'before') query.set('availableBefore', new Date(`${v}T23:59:59`).toISOString());
    else query.set(k, v);
  }
  if (query.has('lat')) query.set('radiusKm', '50');
  const results = useQuery({
    queryKey: ['search', query.toString()],
    queryFn: () => call<Page<Professional>>('GET', `/v1/professionals?${query}`),
    enabled: searched,
  });

  function search(e: FormEvent) {
    e.preventDefault();
    const next = new URLSearchParams({ s: '1' });
    for (const k of SEARCH_FIELDS) if (form[k].trim()) next.set(k, form[k].trim());
    setParams(next);
  }

  function nearMe() {
    setPlaceError(null);
    if (!navigator.geolocation) return setPlaceError(t('search.noGeolocation'));
    navigator.geolocation.getCurrentPosition(
      (pos) => setForm((prev) => ({ ...prev, lat: pos.coords.latitude.toFixed(4), lng: pos.coords.longitude.toFixed(4), country: '', q: '' })),
      () => setPlaceError(t('search.noGeolocation')),
      { timeout: 10_000 },
    );
  }

  return (
    <section aria-labelledby="search-title" className="card">
      <h2 id="search-title">{t('search.title')}</h2>
      <form onSubmit={search} className="search-form" role="search">
        <label>{t('search.specialty')}
          <select name="specialty" value={form.specialty} onChange={set('specialty')}>
            <option value="">{t('search.anySpecialty')}</option>
            {specialties.data?.items.map((s) => <option key={s.code} value={s.code}>{s.name}</option>)}
          </select>
        </label>
        <label>{t('search.country')}
          <select name="country" value={form.country} onChange={set('country')}>
            <option value="">{t('search.anyCountry')}</option>
            {countries.data?.items.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
          </select>
        </label>
        <label>{t('search.cityOrName')}
          <input name="q" type="search" value={form.q} onChange={set('q')} />
        </label>
        <label>{t('search.language')}
          <select name="language" value={form.language} onChange={set('language')}>
            <option value="">{t('search.anyLanguage')}</option>
            {['fr', 'de', 'it', 'en'].map((l) => <option key={l} value={l}>{t(`languages.${l}`)}</option>)}
          </select>
        </label>
        <label>{t('search.maxPrice')}
          <input name="maxPrice" inputMode="decimal" pattern="\d{1,5}(\.\d{1,2})?" value={form.maxPrice} onChange={set('maxPrice')} />
        </label>
        <label>{t('search.freeBefore')}
          <input name="before" type="date" value={form.before} onChange={set('before')} />
        </label>
        <div className="row wide">
          <button type="button" className="secondary" onClick={nearMe} aria-pressed={!!form.lat}>{t('search.nearMe')}</button>
          {form.lat && (
            <span className="muted">{t('search.nearMeOn')} <button type="button" className="link" onClick={() => setForm((p) => ({ ...p, lat: '', lng: '' }))}>{t('search.clear')}</button></span>
          )}
          <button type="submit" disabled={results.isFetching}>{t('search.search')}</button>
        </div>
      </form>
      {placeError && <p role="alert" className="error">{placeError}</p>}
      <ErrorText error={specialties.error ?? countries.error ?? results.error} />
      <div aria-live="polite">
        {results.data && results.data.items.length === 0 && <p>{t('search.none')}</p>}
        {results.data && results.data.items.length > 0 && (
          <ul className="results" aria-label={t('search.results')}>
            {results.data.items.map((p) => (
              <li key={p.id}>
                <div>
                  <h3>{p.displayName}</h3>
                  <p>{p.specialties.map((s) => names.get(s) ?? s).join(', ')}</p>
                  <p>{[p.city, p.country].filter(Boolean).join(', ')}{p.distanceKm !== undefined ? ` (${p.distanceKm} km)` : ''} · {f.money(p.price)}{p.consultationMinutes ? ` / ${p.consultationMinutes} min` : ''}</p>
                  <p className="muted">{t('search.nextAvailable')}: {p.nextAvailableAt ? f.instant(p.nextAvailableAt) : t('search.noSlotSoon')}</p>
                </div>
                <Link className="button" to={`/professionals/${p.id}`}>
                  {t('search.seeSlots')}<span className="visually-hidden"> · {p.displayName}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

export function HomePage() {
  const { t } = useTranslation();
  const { session, restoring } = useSession();
  // Search first: it shows at once, whoever the visitor is; what depends on the session (sign up or
  // in, a professional's way to their screen) comes under it once the session check has answered,
  // so it never pushes the search down as it arrives (layout shift). Opened from a mailed link, the
  // page is about that link: its panel then comes first.
  const [fromMail] = useState(() => mailLink() !== null);
  const mailPanel = !session && !restoring && <MailLinkPanel />;
  return (
    <>
      <h1>{t('home.title')}</h1>
      {fromMail && mailPanel}
      <SearchPanel />
      {!session && !restoring && <AccountPanel />}
      {!fromMail && mailPanel}
      {session && session.user.role !== 'patient' && (
        <p className="card"><Link to={HOME_OF[session.user.role]}>{t(`nav.${session.user.role}`)}</Link></p>
      )}
    </>
  );
}
