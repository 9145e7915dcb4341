import type { Language } from './language';

/**
 * Names of the specialties by language. search owns the list (codes and English names, a migration
 * adds one: services/search/prisma/migrations/*_reference_data); their names in the other languages are
 * presentation, kept here so search's data and caches stay language-free. reference-labels.test.ts
 * fails when a specialty of the migrations has no name here in every language.
 */
export const SPECIALTY_NAMES: Record<string, Record<Language, string>> = {
  'general-practice': { en: 'General practice', fr: 'Médecine générale', de: 'Allgemeinmedizin', it: 'Medicina generale' },
  'internal-medicine': { en: 'Internal medicine', fr: 'Médecine interne', de: 'Innere Medizin', it: 'Medicina interna' },
  cardiology: { en: 'Cardiology', fr: 'Cardiologie', de: 'Kardiologie', it: 'Cardiologia' },
  dermatology: { en: 'Dermatology', fr: 'Dermatologie', de: 'Dermatologie', it: 'Dermatologia' },
  psychiatry: { en: 'Psychiatry', fr: 'Psychiatrie', de: 'Psychiatrie', it: 'Psichiatria' },
  pediatrics: { en: 'Pediatrics', fr: 'Pédiatrie', de: 'Pädiatrie', it: 'Pediatria' },
  gynecology: { en: 'Gynecology', fr: 'Gynécologie', de: 'Gynäkologie', it: 'Ginecologia' },
  psychology: { en: 'Psychology', fr: 'Psychologie', de: 'Psychologie', it: 'Psicologia' },
  nutrition: { en: 'Nutrition and dietetics', fr: 'Nutrition et diététique', de: 'Ernährungsberatung', it: 'Nutrizione e dietetica' },
  endocrinology: { en: 'Endocrinology', fr: 'Endocrinologie', de: 'Endokrinologie', it: 'Endocrinologia' },
  gastroenterology: { en: 'Gastroenterology', fr: 'Gastro-entérologie', de: 'Gastroenterologie', it: 'Gastroenterologia' },
  neurology: { en: 'Neurology', fr: 'Neurologie', de: 'Neurologie', it: 'Neurologia' },
  pulmonology: { en: 'Pulmonology', fr: 'Pneumologie', de: 'Pneumologie', it: 'Pneumologia' },
  rheumatology: { en: 'Rheumatology', fr: 'Rhumatologie', de: 'Rheumatologie', it: 'Reumatologia' },
  urology: { en: 'Urology', fr: 'Urologie', de: 'Urologie', it: 'Urologia' },
  ophthalmology: { en: 'Ophthalmology', fr: 'Ophtalmologie', de: 'Augenheilkunde', it: 'Oftalmologia' },
  otorhinolaryngology: { en: 'Ear, nose and throat', fr: 'Oto-rhino-laryngologie (ORL)', de: 'Hals-Nasen-Ohren-Heilkunde', it: 'Otorinolaringoiatria' },
  orthopedics: { en: 'Orthopedics', fr: 'Orthopédie', de: 'Orthopädie', it: 'Ortopedia' },
  allergology: { en: 'Allergology and immunology', fr: 'Allergologie et immunologie', de: 'Allergologie und Immunologie', it: 'Allergologia e immunologia' },
  physiotherapy: { en: 'Physiotherapy', fr: 'Physiothérapie', de: 'Physiotherapie', it: 'Fisioterapia' },
  sexology: { en: 'Sexology', fr: 'Sexologie', de: 'Sexologie', it: 'Sessuologia' },
  'travel-medicine': { en: 'Travel medicine', fr: 'Médecine des voyages', de: 'Reisemedizin', it: 'Medicina dei viaggi' },
};

/** A specialty's name in a language; search's (English) name, or the code, for one not named here. */
export function specialtyName(code: string, language: Language, fallback?: string): string {
  return SPECIALTY_NAMES[code]?.[language] ?? fallback ?? code;
}

const regionNames = new Map<Language, Intl.DisplayNames>();

/** A country's name in a language, from the CLDR data of Node's ICU; search's (English) name when ICU has none. */
export function countryName(code: string, language: Language, fallback: string): string {
  let names = regionNames.get(language);
  if (!names) regionNames.set(language, (names = new Intl.DisplayNames([language], { type: 'region', fallback: 'none' })));
  try {
    return names.of(code) ?? fallback;
  } catch {
    return fallback; // not a region code ICU accepts
  }
}

/** Sorts reference items by their name as people of that language sort. */
export const byName = (language: Language) => {
  const collator = new Intl.Collator(language);
  return (a: { name: string }, b: { name: string }) => collator.compare(a.name, b.name);
};
