import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';

/** Privacy policy, terms, imprint: the legal texts are to come (placeholders, marked as such). */
export function LegalPage({ kind }: { kind: 'privacy' | 'terms' | 'imprint' }) {
  const { t } = useTranslation();
  return (
    <section className="card">
      <h1>{t(`legal.${kind}`)}</h1>
      <p className="warning">{t('legal.placeholder')}</p>
    </section>
  );
}

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <section className="card">
      <h1>{t('notFound.title')}</h1>
      <p><Link to="/">{t('nav.search')}</Link></p>
    </section>
  );
}
