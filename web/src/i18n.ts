import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { setApiLanguage } from './api';
import en from './locales/en.json';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'fr', name: 'Français' },
  { code: 'de', name: 'Deutsch' },
  { code: 'it', name: 'Italiano' },
] as const;
export type Language = (typeof LANGUAGES)[number]['code'];
const STORED = 'cryptocare.lang';

/** The language chosen with the switch, else the first of the browser's we have, else English. */
export function initialLanguage(): Language {
  const supported = LANGUAGES.map((l) => l.code) as string[];
  try {
    const stored = localStorage.getItem(STORED);
    if (stored && supported.includes(stored)) return stored as Language;
  } catch {
    /* storage refused (private mode): the browser's language then */
  }
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0]!;
    if (supported.includes(base)) return base as Language;
  }
  return 'en';
}

/**
 * English is in the page's first script (the fallback, and the most asked); each other catalogue is
 * a small file of its own, fetched only by who reads that language: at load, before the first
 * render, or when the switch chooses it.
 */
const CATALOGUES: Record<Exclude<Language, 'en'>, () => Promise<{ default: typeof en }>> = {
  fr: () => import('./locales/fr.json'),
  de: () => import('./locales/de.json'),
  it: () => import('./locales/it.json'),
};

async function loadCatalogue(lang: Language): Promise<void> {
  if (lang === 'en' || i18n.hasResourceBundle(lang, 'translation')) return;
  const { default: messages } = await CATALOGUES[lang]();
  i18n.addResourceBundle(lang, 'translation', messages);
}

export async function chooseLanguage(lang: Language): Promise<void> {
  try {
    localStorage.setItem(STORED, lang);
  } catch {
    /* not kept: fine for this visit */
  }
  try {
    await loadCatalogue(lang);
  } catch {
    return; // not reachable now (offline): the page stays in its language
  }
  await i18n.changeLanguage(lang);
}

i18n.on('languageChanged', (lang) => {
  document.documentElement.lang = lang;
  setApiLanguage(lang);
});

/** Resolves once the page's language is loaded: main.tsx renders then (no flash of English). */
export const i18nReady: Promise<unknown> = (async () => {
  const lang = initialLanguage();
  await i18n.use(initReactI18next).init({
    resources: { en: { translation: en } },
    lng: 'en',
    fallbackLng: 'en',
    interpolation: { escapeValue: false }, // React escapes
    returnNull: false,
  });
  document.documentElement.lang = i18n.language;
  setApiLanguage(i18n.language);
  if (lang !== 'en') {
    try {
      await loadCatalogue(lang);
      await i18n.changeLanguage(lang);
    } catch {
      /* its catalogue could not be fetched: English for now, the switch can try again */
    }
  }
})();

export default i18n;
