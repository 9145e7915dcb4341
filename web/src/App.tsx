import { lazy, Suspense } from 'react';
import { BrowserRouter, Link, NavLink, Route, Routes } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { chooseLanguage, LANGUAGES, type Language } from './i18n';
import { SessionProvider, useSession } from './session';
import { HomePage } from './pages/Home';
import { ProfessionalPage } from './pages/Professional';
import { LegalPage, NotFoundPage } from './pages/Static';

// Patients never download the professional's and the admin's screens; the first page (search, a
// professional's page) loads without the screens that come after it (Lighthouse: less to parse first).
const ProPage = lazy(() => import('./pages/Pro'));
const AdminPage = lazy(() => import('./pages/Admin'));
const BookingPage = lazy(() => import('./pages/Booking').then((m) => ({ default: m.BookingPage })));
const BookingsPage = lazy(() => import('./pages/Bookings').then((m) => ({ default: m.BookingsPage })));
const AccountPage = lazy(() => import('./pages/Account').then((m) => ({ default: m.AccountPage })));
const AdminAuditPage = lazy(() => import('./pages/AdminAudit'));
const AdminLedgerPage = lazy(() => import('./pages/AdminLedger'));

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false } },
});

function Header() {
  const { t, i18n } = useTranslation();
  const { session, signOut } = useSession();
  const role = session?.user.role;
  return (
    <header className="top">
      <div className="brand">
        <Link to="/" className="logo">CryptoCare</Link>
        <p>{t('header.tagline')}</p>
      </div>
      <nav aria-label={t('nav.label')} className="row">
        <NavLink to="/">{t('nav.search')}</NavLink>
        {role === 'patient' && <NavLink to="/bookings">{t('nav.bookings')}</NavLink>}
        {role === 'professional' && <NavLink to="/pro">{t('nav.professional')}</NavLink>}
        {role === 'admin' && <NavLink to="/admin">{t('nav.admin')}</NavLink>}
        {role && <NavLink to="/account">{t('nav.myData')}</NavLink>}
      </nav>
      <div className="row">
        <label className="inline">
          <span>{t('header.language')}</span>
          <select value={i18n.language} onChange={(e) => void chooseLanguage(e.target.value as Language)}>
            {LANGUAGES.map((l) => <option key={l.code} value={l.code} lang={l.code}>{l.name}</option>)}
          </select>
        </label>
        {session && (
          <>
            <span data-testid="signed-in">{t('header.signedInAs', { name: session.user.displayName })}</span>
            <button type="button" className="secondary" onClick={() => void signOut()}>{t('header.signOut')}</button>
          </>
        )}
      </div>
    </header>
  );
}

function Footer() {
  const { t } = useTranslation();
  return (
    <footer className="bottom row">
      <Link to="/privacy">{t('legal.privacy')}</Link>
      <Link to="/terms">{t('legal.terms')}</Link>
      <Link to="/imprint">{t('legal.imprint')}</Link>
    </footer>
  );
}

export function App() {
  const { t } = useTranslation();
  return (
    <QueryClientProvider client={queryClient}>
      <SessionProvider>
        <BrowserRouter>
          <Header />
          <main>
            <Suspense fallback={<p>{t('common.loading')}</p>}>
              <Routes>
                <Route path="/" element={<HomePage />} />
                <Route path="/professionals/:id" element={<ProfessionalPage />} />
                <Route path="/bookings" element={<BookingsPage />} />
                <Route path="/bookings/:id" element={<BookingPage />} />
                <Route path="/pro" element={<ProPage />} />
                <Route path="/admin" element={<AdminPage />} />
                <Route path="/admin/audit" element={<AdminAuditPage />} />
                <Route path="/admin/ledger" element={<AdminLedgerPage />} />
                <Route path="/account" element={<AccountPage />} />
                <Route path="/privacy" element={<LegalPage kind="privacy" />} />
                <Route path="/terms" element={<LegalPage kind="terms" />} />
                <Route path="/imprint" element={<LegalPage kind="imprint" />} />
                <Route path="*" element={<NotFoundPage />} />
              </Routes>
            </Suspense>
          </main>
          <Footer />
        </BrowserRouter>
      </SessionProvider>
    </QueryClientProvider>
  );
}
