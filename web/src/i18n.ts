import i18n from 'i18next';
import { initReactI18next } from 'react-i18next';
import { setApiLanguage } from './api';
import en from './locales/en.json';
import fr from './locales/fr.json';
import de from './locales/de.json';
import it from './locales/it.json';

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

export function chooseLanguage(lang: Language) {
  try {
    localStorage.setItem(STORED, lang);
  } catch {
    /* not kept: fine for this visit */
  }
  void i18n.changeLanguage(lang);
}

i18n.on('languageChanged', (lang) => {
  document.documentElement.lang = lang;
  setApiLanguage(lang);
});

void i18n.use(initReactI18next).init({
  resources: { en: { translation: en }, fr: { translation: fr }, de: { translation: de }, it: { translation: it } },
  lng: initialLanguage(),
  fallbackLng: 'en',
  interpolation: { escapeValue: false }, // React escapes
  returnNull: false,
});
document.documentElement.lang = i18n.language;
setApiLanguage(i18n.language);

export default i18n;
