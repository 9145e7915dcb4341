import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import {
  ApiError, bookAppointment, call, formatDay, formatInstant, formatMoney, isRetryable, newIdempotencyKey, svgDataUrl,
  type Booking, type CodeName, type Invoice, type Professional, type Session, type Slots,
} from './api';
import { followBooking } from './live';

const STEPS = [
  { key: 'invoice_ready', label: 'Invoice ready' },
  { key: 'confirmed', label: 'Payment received, booking confirmed' },
  { key: 'meeting_ready', label: 'Meeting link ready' },
] as const;
type StepKey = (typeof STEPS)[number]['key'];
const SLOTS_SHOWN = 24;

function statusLabel(status: string, reached: Set<StepKey>): string {
  if (reached.has('confirmed')) return 'confirmed';
  return status === 'held' ? 'held until paid' : status;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/* ---------- 1. Account ---------- */

function AccountPanel({ session, onSession }: { session: Session | null; onSession: (s: Session | null) => void }) {
  const [mode, setMode] = useState<'register' | 'login'>('register');
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
        ? (await call<{ items: Array<{ kind: string; version: string }> }>('GET', '/v1/consent-documents')).items.map((d) => ({ kind: d.kind, version: d.version, lang: 'en' }))
        : [];
      const s = mode === 'register'
        ? await call<Session>('POST', '/v1/auth/register', { body: { email, password, role: 'patient', displayName, consents } })
        : await call<Session>('POST', '/v1/auth/login', { body: { email, password } });
      setPassword('');
      onSession(s);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  if (session) {
    return (
      <section aria-labelledby="account-title" className="card">
        <h2 id="account-title">Your account</h2>
        <p data-testid="signed-in">Signed in as <strong>{session.user.displayName}</strong> ({session.user.email})</p>
        <button type="button" className="secondary" onClick={() => onSession(null)}>Sign out</button>
      </section>
    );
  }
  return (
    <section aria-labelledby="account-title" className="card">
      <h2 id="account-title">{mode === 'register' ? 'Create a patient account' : 'Log in'}</h2>
      <form onSubmit={submit} className="stack">
        {mode === 'register' && (
          <label>Your name
            <input name="displayName" value={displayName} onChange={(e) => setDisplayName(e.target.value)} required autoComplete="name" />
          </label>
        )}
        <label>Email
          <input name="email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} required autoComplete="email" />
        </label>
        <label>Password
          <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={mode === 'register' ? 10 : undefined}
            autoComplete={mode === 'register' ? 'new-password' : 'current-password'} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <div className="row">
          {mode === 'register' && (
            <p className="hint">By signing up you accept the terms of use, the privacy notice, the consent to teleconsultation
              and the consent to cross-border disclosure (<a href="/v1/consent-documents" target="_blank" rel="noreferrer">read them</a>).</p>
          )}
          <button type="submit" disabled={busy}>{mode === 'register' ? 'Sign up' : 'Log in'}</button>
          <button type="button" className="link" onClick={() => { setMode(mode === 'register' ? 'login' : 'register'); setError(null); }}>
            {mode === 'register' ? 'I already have an account' : 'Create an account instead'}
          </button>
        </div>
      </form>
    </section>
  );
}

/* ---------- 1b. Links from account mails (verification, password reset) and "forgot password" ---------- */

/** The mailed links are `/#/verify-email?token=…` and `/#/reset-password?token=…`: the token stays in the fragment. */
function mailLink(): { kind: 'verify' | 'reset'; token: string } | null {
  const match = /^#\/(verify-email|reset-password)\?token=([A-Za-z0-9_-]+)$/.exec(window.location.hash);
  return match ? { kind: match[1] === 'verify-email' ? 'verify' : 'reset', token: match[2]! } : null;
}

function MailLinkPanel() {
  const [link] = useState(mailLink);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [forgotEmail, setForgotEmail] = useState('');

  useEffect(() => {
    if (link?.kind !== 'verify') return;
    call('POST', '/v1/auth/verify-email', { body: { token: link.token } }).then(
      () => setStatus('Your email address is confirmed. Thank you.'),
      (err) => setError(messageOf(err)),
    );
    window.history.replaceState(null, '', window.location.pathname);
  }, [link]);

  async function reset(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call('POST', '/v1/auth/password-reset/confirm', { body: { token: link!.token, newPassword: password } });
      setPassword('');
      setStatus('Your password is changed and every session is signed out. Log in with the new password.');
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
      setStatus('If this address has an account, a link to choose a new password is on its way (valid 30 minutes).');
    } catch (err) {
      setError(messageOf(err));
    }
  }

  if (link?.kind === 'reset' && !status) {
    return (
      <section aria-labelledby="reset-title" className="card">
        <h2 id="reset-title">Choose a new password</h2>
        <form onSubmit={reset} className="stack">
          <label>New password
            <input name="newPassword" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required minLength={10} autoComplete="new-password" />
          </label>
          {error && <p role="alert" className="error">{error}</p>}
          <button type="submit" disabled={busy}>Set the new password</button>
        </form>
      </section>
    );
  }
  return (
    <section aria-label="Trouble signing in" className="card">
      {status && <p role="status">{status}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      <details>
        <summary>Forgot your password?</summary>
        <form onSubmit={forgot} className="row">
          <input name="forgotEmail" type="email" value={forgotEmail} onChange={(e) => setForgotEmail(e.target.value)} required autoComplete="email" aria-label="Address for the reset link" />
          <button type="submit" className="secondary">Mail me a link</button>
        </form>
      </details>
    </section>
  );
}

/* ---------- 2. Search ---------- */

function SearchPanel({ selectedId, onPick }: { selectedId: string | null; onPick: (p: Professional) => void }) {
  const [specialties, setSpecialties] = useState<CodeName[]>([]);
  const [countries, setCountries] = useState<CodeName[]>([]);
  const [specialty, setSpecialty] = useState('');
  const [country, setCountry] = useState('');
  const [q, setQ] = useState('');
  const [results, setResults] = useState<Professional[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    call<{ items: CodeName[] }>('GET', '/v1/specialties').then((r) => setSpecialties(r.items)).catch((err) => setError(messageOf(err)));
    call<{ items: CodeName[] }>('GET', '/v1/countries').then((r) => setCountries(r.items)).catch((err) => setError(messageOf(err)));
  }, []);

  const names = new Map(specialties.map((s) => [s.code, s.name]));

  async function search(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const params = new URLSearchParams();
    if (specialty) params.set('specialty', specialty);
    if (country) params.set('country', country);
    if (q.trim()) params.set('q', q.trim());
    try {
      const r = await call<{ items: Professional[] }>('GET', `/v1/professionals?${params}`);
      setResults(r.items);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="search-title" className="card">
      <h2 id="search-title">Find a professional</h2>
      <form onSubmit={search} className="search-form" role="search">
        <label>Specialty
          <select name="specialty" value={specialty} onChange={(e) => setSpecialty(e.target.value)}>
            <option value="">Any specialty</option>
            {specialties.map((s) => <option key={s.code} value={s.code}>{s.name}</option>)}
          </select>
        </label>
        <label>Country
          <select name="country" value={country} onChange={(e) => setCountry(e.target.value)}>
            <option value="">Any country</option>
            {countries.map((c) => <option key={c.code} value={c.code}>{c.name}</option>)}
          </select>
        </label>
        <label className="wide">Name, city or keyword
          <input name="q" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>Search</button>
      </form>
      {error && <p role="alert" className="error">{error}</p>}
      <div aria-live="polite">
        {results && results.length === 0 && <p>No professional matches this search.</p>}
        {results && results.length > 0 && (
          <ul className="results" aria-label="Search results">
            {results.map((p) => (
              <li key={p.id} className={p.id === selectedId ? 'selected' : undefined}>
                <div>
                  <h3>{p.displayName}</h3>
                  <p>{p.specialties.map((s) => names.get(s) ?? s).join(', ')}</p>
                  <p>{[p.city, p.country].filter(Boolean).join(', ')} · {formatMoney(p.price)}{p.consultationMinutes ? ` / ${p.consultationMinutes} min` : ''}</p>
                  <p className="muted">Next available: {p.nextAvailableAt ? formatInstant(p.nextAvailableAt, p.timeZone) : 'no free slot soon'}</p>
                </div>
                <button type="button" onClick={() => onPick(p)} aria-pressed={p.id === selectedId} aria-label={`See free slots of ${p.displayName}`}>
                  See slots
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

/* ---------- 3. Slots ---------- */

function SlotsPanel({ professional, slots, loading, error, notice, canBook, booking, onBook }: {
  professional: Professional; slots: Slots | null; loading: boolean; error: string | null; notice: string | null;
  canBook: boolean; booking: boolean; onBook: (start: string) => void;
}) {
  const [shown, setShown] = useState(SLOTS_SHOWN);
  const timeZone = slots?.timeZone || professional.timeZone;
  const items = slots?.items.slice(0, shown) ?? [];
  const days: { day: string; starts: string[] }[] = [];
  for (const s of items) {
    const day = formatDay(s.start, timeZone);
    if (days.at(-1)?.day === day) days.at(-1)!.starts.push(s.start);
    else days.push({ day, starts: [s.start] });
  }
  return (
    <section aria-labelledby="slots-title" className="card">
      <h2 id="slots-title">Free slots of {professional.displayName}</h2>
      <p className="muted">Times in the professional's time zone ({timeZone}).</p>
      {notice && <p role="alert" className="warning">{notice}</p>}
      {error && <p role="alert" className="error">{error}</p>}
      {!canBook && <p className="muted">Sign up or log in above to book a slot.</p>}
      {loading && <p aria-live="polite">Loading slots…</p>}
      {slots && slots.items.length === 0 && <p>No free slot in the booking horizon.</p>}
      {days.map(({ day, starts }) => (
        <div key={day} role="group" aria-label={day} className="day">
          <h3>{day}</h3>
          <div className="slots">
            {starts.map((start) => (
              <button key={start} type="button" className="slot" disabled={!canBook || booking} onClick={() => onBook(start)}
                aria-label={`Book ${formatInstant(start, timeZone)}`}>
                {formatInstant(start, timeZone, false)}
              </button>
            ))}
          </div>
        </div>
      ))}
      {slots && slots.items.length > shown && (
        <button type="button" className="secondary" onClick={() => setShown(shown + SLOTS_SHOWN)}>Show more slots</button>
      )}
    </section>
  );
}

/* ---------- 4 & 5. Invoice and live status ---------- */

function BookingPanel({ booking, professional, reached, joinUrl, ended, liveError }: {
  booking: Booking; professional: Professional | null; reached: Set<StepKey>; joinUrl: string | null; ended: string | null; liveError: string | null;
}) {
  const { invoice, appointment } = booking;
  const [copied, setCopied] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  // A new booking: bring it into view (on a phone it is below the slots) and move focus to it.
  useEffect(() => {
    heading.current?.focus();
    heading.current?.scrollIntoView?.({ block: 'start' });
  }, [appointment.id]);
  async function copy() {
    if (!invoice) return;
    try {
      await navigator.clipboard.writeText(invoice.lightningInvoice);
      setCopied(true);
    } catch {
      const area = document.getElementById('bolt11') as HTMLTextAreaElement | null;
      area?.select();
      setCopied(document.execCommand?.('copy') ?? false);
    }
    setTimeout(() => setCopied(false), 2000);
  }
  return (
    <section aria-labelledby="booking-title" className="card">
      <h2 id="booking-title" ref={heading} tabIndex={-1}>Your booking</h2>
      <p>{professional ? `${professional.displayName}, ` : ''}{formatInstant(appointment.start, professional?.timeZone)}
        {professional?.timeZone ? ` (${professional.timeZone})` : ''} · {statusLabel(appointment.status, reached)}</p>
      {!joinUrl && !ended && !invoice && (
        // The payment provider could not be reached at booking time: the slot is held, the
        // invoice comes on the live stream (invoice_ready) as soon as the provider answers.
        <p role="status" className="preparing" data-testid="invoice-preparing">
          Preparing your invoice… Your slot is held for you; the payment request appears here in a moment.
        </p>
      )}
      {!joinUrl && !ended && invoice && (
        <div className="invoice">
          {invoice.qrSvg && <img className="qr" src={svgDataUrl(invoice.qrSvg)} alt="QR code of the Bitcoin payment request" width={240} height={240} />}
          <div className="stack">
            <p className="amount"><span data-testid="fiat">{formatMoney(invoice.amount)}</span> = <span data-testid="sats">{invoice.sats.toLocaleString()} sats</span></p>
            <label>Lightning invoice (BOLT11)
              <textarea id="bolt11" readOnly value={invoice.lightningInvoice} rows={4} onFocus={(e) => e.currentTarget.select()} />
            </label>
            <div className="row">
              <button type="button" onClick={copy}>{copied ? 'Copied' : 'Copy invoice'}</button>
              <a className="button secondary" href={invoice.checkoutUrl} target="_blank" rel="noopener noreferrer">Open checkout</a>
            </div>
            <p className="muted">Pay before {formatInstant(invoice.expiresAt, null)}.</p>
          </div>
        </div>
      )}
      <ol className="steps" aria-label="Booking progress">
        {STEPS.map((s) => (
          <li key={s.key} data-step={s.key} className={reached.has(s.key) ? 'done' : undefined}>
            <span aria-hidden="true">{reached.has(s.key) ? '✔' : '○'}</span> {s.label}
            <span className="visually-hidden">{reached.has(s.key) ? ' (done)' : ' (waiting)'}</span>
          </li>
        ))}
      </ol>
      <div aria-live="polite">
        {joinUrl && (
          <p className="success">Your consultation is booked. <a data-testid="join-url" href={joinUrl} target="_blank" rel="noopener noreferrer">Join the meeting</a></p>
        )}
        {ended && <p role="alert" className="error">{ended}</p>}
        {liveError && !joinUrl && !ended && <p className="muted">{liveError}</p>}
      </div>
    </section>
  );
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [professional, setProfessional] = useState<Professional | null>(null);
  const [slots, setSlots] = useState<Slots | null>(null);
  const [slotsLoading, setSlotsLoading] = useState(false);
  const [slotsError, setSlotsError] = useState<string | null>(null);
  const [slotsNotice, setSlotsNotice] = useState<string | null>(null);
  const [booking, setBooking] = useState<Booking | null>(null);
  const [bookedWith, setBookedWith] = useState<Professional | null>(null);
  const [bookingBusy, setBookingBusy] = useState(false);
  const [reached, setReached] = useState<Set<StepKey>>(new Set());
  const [joinUrl, setJoinUrl] = useState<string | null>(null);
  const [ended, setEnded] = useState<string | null>(null);
  const [liveError, setLiveError] = useState<string | null>(null);
  const stopLive = useRef<(() => void) | null>(null);
  const slotsRequest = useRef(0);
  const sessionRef = useRef<Session | null>(null);
  sessionRef.current = session;
  /** One Idempotency-Key per slot the patient tries to book, kept until an answer is final. */
  const bookingKeys = useRef(new Map<string, string>());

  const closeStream = () => {
    stopLive.current?.();
    stopLive.current = null;
  };
  useEffect(() => closeStream, []);

  const loadSlots = useCallback(async (p: Professional) => {
    const request = ++slotsRequest.current;
    setSlotsLoading(true);
    setSlotsError(null);
    try {
      const r = await call<Slots>('GET', `/v1/professionals/${encodeURIComponent(p.id)}/slots`);
      if (request === slotsRequest.current) setSlots(r);
    } catch (err) {
      if (request === slotsRequest.current) setSlotsError(messageOf(err));
    } finally {
      if (request === slotsRequest.current) setSlotsLoading(false);
    }
  }, []);

  function pick(p: Professional) {
    setProfessional(p);
    setSlots(null);
    setSlotsNotice(null);
    void loadSlots(p);
  }

  function follow(id: string) {
    closeStream();
    const mark = (key: StepKey) => setReached((prev) => new Set(prev).add(key));
    const showInvoice = (invoice: Invoice) => setBooking((prev) => (prev && prev.appointment.id === id ? { ...prev, invoice, invoicePending: false } : prev));
    stopLive.current = followBooking(id, () => sessionRef.current?.accessToken ?? null, {
      onStatus: setLiveError,
      onEvent(name, data) {
        switch (name) {
          case 'invoice_ready':
            mark('invoice_ready');
            if (data.invoice) showInvoice(data.invoice as Invoice);
            else {
              // An older server announces the invoice without it: read the booking.
              const token = sessionRef.current?.accessToken;
              call<{ invoice: Invoice | null }>('GET', `/v1/appointments/${encodeURIComponent(id)}`, { token })
                .then((r) => r.invoice && showInvoice(r.invoice))
                .catch(() => setLiveError('The invoice is ready but could not be loaded; reload the page.'));
            }
            break;
          case 'payment_seen':
            setLiveError('Payment seen, waiting for confirmation…');
            break;
          case 'confirmed':
            mark('invoice_ready');
            mark('confirmed');
            break;
          case 'meeting_ready':
            setReached(new Set(STEPS.map((s) => s.key)));
            setJoinUrl(typeof data.joinUrl === 'string' ? data.joinUrl : null);
            closeStream();
            break;
          case 'expired':
            setEnded('The invoice expired before payment: the slot was released. Pick a slot again.');
            closeStream();
            break;
          case 'cancelled':
            setEnded('This booking was cancelled.');
            closeStream();
            break;
        }
      },
    });
  }

  async function book(start: string) {
    if (!session || !professional) return;
    setBookingBusy(true);
    setSlotsError(null);
    setSlotsNotice(null);
    // The same key for every try at this slot (our retries and the patient's), until the answer is final.
    const slotKey = `${professional.id}|${start}`;
    const idempotencyKey = bookingKeys.current.get(slotKey) ?? newIdempotencyKey();
    bookingKeys.current.set(slotKey, idempotencyKey);
    try {
      const b = await bookAppointment(session.accessToken, { professionalId: professional.id, start }, idempotencyKey, {
        onRetry: () => setSlotsNotice('The service is busy; trying again…'),
      });
      bookingKeys.current.delete(slotKey);
      setSlotsNotice(null);
      setBooking(b);
      setBookedWith(professional);
      void loadSlots(professional);
      setReached(new Set());
      setJoinUrl(b.appointment.meeting?.joinUrl ?? null);
      setEnded(null);
      setLiveError(null);
      follow(b.appointment.id);
    } catch (err) {
      if (!isRetryable(err)) bookingKeys.current.delete(slotKey);
      if (isRetryable(err)) {
        setSlotsNotice(null);
        setSlotsError('We could not confirm your booking: the service is busy or cannot be reached. Please try the same slot again in a moment; '
          + 'it will not be booked twice.');
      } else if (err instanceof ApiError && err.code === 'SLOT_TAKEN') {
        setSlotsNotice('Sorry, someone has just booked that slot. The free slots have been reloaded: please pick another one.');
        void loadSlots(professional);
      } else {
        setSlotsError(messageOf(err));
      }
    } finally {
      setBookingBusy(false);
    }
  }

  function changeSession(s: Session | null) {
    setSession(s);
    if (!s) {
      closeStream();
      setBooking(null);
    }
  }

  return (
    <>
      <header className="top">
        <h1>CryptoCare</h1>
        <p>Book a video consultation, pay in Bitcoin.</p>
      </header>
      <main>
        <AccountPanel session={session} onSession={changeSession} />
        {!session && <MailLinkPanel />}
        <SearchPanel selectedId={professional?.id ?? null} onPick={pick} />
        {professional && (
          <SlotsPanel key={professional.id} professional={professional} slots={slots} loading={slotsLoading} error={slotsError} notice={slotsNotice}
            canBook={!!session} booking={bookingBusy} onBook={book} />
        )}
        {booking && <BookingPanel booking={booking} professional={bookedWith} reached={reached} joinUrl={joinUrl} ended={ended} liveError={liveError} />}
      </main>
    </>
  );
}
