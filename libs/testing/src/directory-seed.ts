// A realistic directory at scale (issue 13): professionals across CH/FR/DE/IT/AT with names, cities
// and coordinates, specialties, languages, prices in the country's currency, weekly schedules and a
// booking load. Deterministic for a given seed number, so tests, benchmarks and `make dev` see the
// same directory. Pure data: each service writes its own part (services/*/src/seed.ts, scripts/seed.ts).

/** mulberry32: a small, fast, seedable PRNG (the data only has to look random, not be secret). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
/** Picks by weight: [[item, weight], ...]. */
function weighted<T>(random: Random, items: ReadonlyArray<readonly [T, number]>): T {
  const total = items.reduce((sum, [, w]) => sum + w, 0);
  let r = random() * total;
  for (const [item, w] of items) if ((r -= w) < 0) return item;
  return items[items.length - 1]![0];
}

/** A version 4 UUID from the PRNG (deterministic ids). */
export function seededUuid(random: Random): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(random() * 4)).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

export type SeedCountry = 'CH' | 'FR' | 'DE' | 'IT' | 'AT';

interface City {
  name: string;
  latitude: number;
  longitude: number;
  /** Relative number of professionals (roughly the population). */
  weight: number;
  /** The language spoken there (the bio's language). */
  language: 'de' | 'fr' | 'it';
}

const CITIES: Record<SeedCountry, City[]> = {
  CH: [
    { name: 'Zürich', latitude: 47.3769, longitude: 8.5417, weight: 42, language: 'de' },
    { name: 'Genève', latitude: 46.2044, longitude: 6.1432, weight: 20, language: 'fr' },
    { name: 'Basel', latitude: 47.5596, longitude: 7.5886, weight: 17, language: 'de' },
    { name: 'Lausanne', latitude: 46.5197, longitude: 6.6323, weight: 14, language: 'fr' },
    { name: 'Bern', latitude: 46.948, longitude: 7.4474, weight: 14, language: 'de' },
    { name: 'Winterthur', latitude: 47.5001, longitude: 8.7502, weight: 11, language: 'de' },
    { name: 'Luzern', latitude: 47.0502, longitude: 8.3093, weight: 8, language: 'de' },
    { name: 'St. Gallen', latitude: 47.4245, longitude: 9.3767, weight: 8, language: 'de' },
    { name: 'Lugano', latitude: 46.0037, longitude: 8.9511, weight: 6, language: 'it' },
    { name: 'Biel', latitude: 47.1368, longitude: 7.2468, weight: 5, language: 'de' },
    { name: 'Neuchâtel', latitude: 46.99, longitude: 6.9293, weight: 3, language: 'fr' },
    { name: 'Fribourg', latitude: 46.8065, longitude: 7.1619, weight: 4, language: 'fr' },
    { name: 'Sion', latitude: 46.2331, longitude: 7.3606, weight: 3, language: 'fr' },
  ],
  FR: [
    { name: 'Paris', latitude: 48.8566, longitude: 2.3522, weight: 210, language: 'fr' },
    { name: 'Marseille', latitude: 43.2965, longitude: 5.3698, weight: 87, language: 'fr' },
    { name: 'Lyon', latitude: 45.764, longitude: 4.8357, weight: 52, language: 'fr' },
    { name: 'Toulouse', latitude: 43.6047, longitude: 1.4442, weight: 48, language: 'fr' },
    { name: 'Nice', latitude: 43.7102, longitude: 7.262, weight: 34, language: 'fr' },
    { name: 'Nantes', latitude: 47.2184, longitude: -1.5536, weight: 32, language: 'fr' },
    { name: 'Strasbourg', latitude: 48.5734, longitude: 7.7521, weight: 29, language: 'fr' },
    { name: 'Montpellier', latitude: 43.6108, longitude: 3.8767, weight: 29, language: 'fr' },
    { name: 'Bordeaux', latitude: 44.8378, longitude: -0.5792, weight: 26, language: 'fr' },
    { name: 'Lille', latitude: 50.6292, longitude: 3.0573, weight: 23, language: 'fr' },
    { name: 'Grenoble', latitude: 45.1885, longitude: 5.7245, weight: 16, language: 'fr' },
    { name: 'Annecy', latitude: 45.8992, longitude: 6.1294, weight: 13, language: 'fr' },
  ],
  DE: [
    { name: 'Berlin', latitude: 52.52, longitude: 13.405, weight: 364, language: 'de' },
    { name: 'Hamburg', latitude: 53.5511, longitude: 9.9937, weight: 185, language: 'de' },
    { name: 'München', latitude: 48.1351, longitude: 11.582, weight: 149, language: 'de' },
    { name: 'Köln', latitude: 50.9375, longitude: 6.9603, weight: 108, language: 'de' },
    { name: 'Frankfurt', latitude: 50.1109, longitude: 8.6821, weight: 75, language: 'de' },
    { name: 'Stuttgart', latitude: 48.7758, longitude: 9.1829, weight: 63, language: 'de' },
    { name: 'Düsseldorf', latitude: 51.2277, longitude: 6.7735, weight: 62, language: 'de' },
    { name: 'Leipzig', latitude: 51.3397, longitude: 12.3731, weight: 60, language: 'de' },
    { name: 'Dresden', latitude: 51.0504, longitude: 13.7373, weight: 56, language: 'de' },
    { name: 'Nürnberg', latitude: 49.4521, longitude: 11.0767, weight: 52, language: 'de' },
    { name: 'Freiburg im Breisgau', latitude: 47.999, longitude: 7.8421, weight: 23, language: 'de' },
    { name: 'Konstanz', latitude: 47.6603, longitude: 9.1758, weight: 9, language: 'de' },
  ],
  IT: [
    { name: 'Roma', latitude: 41.9028, longitude: 12.4964, weight: 280, language: 'it' },
    { name: 'Milano', latitude: 45.4642, longitude: 9.19, weight: 140, language: 'it' },
    { name: 'Napoli', latitude: 40.8518, longitude: 14.2681, weight: 93, language: 'it' },
    { name: 'Torino', latitude: 45.0703, longitude: 7.6869, weight: 85, language: 'it' },
    { name: 'Genova', latitude: 44.4056, longitude: 8.9463, weight: 56, language: 'it' },
    { name: 'Bologna', latitude: 44.4949, longitude: 11.3426, weight: 39, language: 'it' },
    { name: 'Firenze', latitude: 43.7696, longitude: 11.2558, weight: 36, language: 'it' },
    { name: 'Venezia', latitude: 45.4408, longitude: 12.3155, weight: 26, language: 'it' },
    { name: 'Verona', latitude: 45.4384, longitude: 10.9916, weight: 26, language: 'it' },
    { name: 'Como', latitude: 45.8081, longitude: 9.0852, weight: 8, language: 'it' },
  ],
  AT: [
    { name: 'Wien', latitude: 48.2082, longitude: 16.3738, weight: 190, language: 'de' },
    { name: 'Graz', latitude: 47.0707, longitude: 15.4395, weight: 29, language: 'de' },
    { name: 'Linz', latitude: 48.3069, longitude: 14.2858, weight: 21, language: 'de' },
    { name: 'Salzburg', latitude: 47.8095, longitude: 13.055, weight: 16, language: 'de' },
    { name: 'Innsbruck', latitude: 47.2692, longitude: 11.4041, weight: 13, language: 'de' },
    { name: 'Klagenfurt', latitude: 46.6365, longitude: 14.3122, weight: 10, language: 'de' },
  ],
};

const FIRST_NAMES: Record<'de' | 'fr' | 'it', string[]> = {
  de: ['Anna', 'Lukas', 'Laura', 'Jonas', 'Lea', 'Felix', 'Sophie', 'Maximilian', 'Marie', 'Paul', 'Katharina', 'Tobias', 'Julia', 'Stefan', 'Sabine', 'Jürgen', 'Ursula', 'Matthias', 'Franziska', 'Andreas', 'Ruth', 'Reto', 'Nadine', 'Urs'],
  fr: ['Claire', 'Julien', 'Camille', 'Thomas', 'Chloé', 'Nicolas', 'Élodie', 'Mathieu', 'Sophie', 'Antoine', 'Céline', 'François', 'Amélie', 'Sébastien', 'Hélène', 'Pierre', 'Inès', 'Benoît', 'Margaux', 'Jérôme'],
  it: ['Giulia', 'Marco', 'Francesca', 'Luca', 'Chiara', 'Alessandro', 'Sara', 'Matteo', 'Valentina', 'Giorgio', 'Elena', 'Davide', 'Federica', 'Nicolò', 'Martina', 'Simone', 'Beatrice', 'Andrea'],
};
const LAST_NAMES: Record<'de' | 'fr' | 'it', string[]> = {
  de: ['Müller', 'Schmid', 'Keller', 'Meier', 'Weber', 'Huber', 'Schneider', 'Fischer', 'Becker', 'Wagner', 'Hoffmann', 'Schäfer', 'Koch', 'Bauer', 'Gruber', 'Brunner', 'Baumann', 'Frei', 'Zimmermann', 'Hofer', 'Steiner', 'Moser', 'Graf', 'Wyss', 'Lehmann', 'Köhler'],
  fr: ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', 'Moreau', 'Favre', 'Fontaine', 'Rousseau', 'Blanc', 'Guérin', 'Lefèvre', 'Bonnet', 'Girard', 'Mercier', 'Chevalier', 'Gauthier', 'Perrin', 'Rochat', 'Morel'],
  it: ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci', 'Marino', 'Greco', 'Bruno', 'Gallo', 'Conti', 'De Luca', 'Mancini', 'Costa', 'Giordano', 'Rizzo', 'Lombardi', 'Moretti', 'Fontana', 'Barbieri'],
};

/** Specialties and how common they are among the professionals of the directory. */
const SPECIALTY_MIX: ReadonlyArray<readonly [string, number]> = [
  ['general-practice', 30], ['internal-medicine', 8], ['psychology', 9], ['psychiatry', 6], ['pediatrics', 6], ['gynecology', 5],
  ['dermatology', 4], ['cardiology', 3], ['physiotherapy', 6], ['nutrition', 4], ['endocrinology', 2], ['gastroenterology', 2],
  ['neurology', 2], ['pulmonology', 1], ['rheumatology', 1], ['urology', 1], ['ophthalmology', 2], ['otorhinolaryngology', 2],
  ['orthopedics', 3], ['allergology', 1], ['sexology', 1], ['travel-medicine', 1],
];

/** Price ranges by country, in its currency (CHF for CH, EUR elsewhere), for a standard consultation. */
const PRICES: Record<SeedCountry, { currency: 'CHF' | 'EUR'; min: number; max: number; timeZone: string; share: number; official: 'de' | 'fr' | 'it' }> = {
  CH: { currency: 'CHF', min: 90, max: 260, timeZone: 'Europe/Zurich', share: 20, official: 'de' },
  FR: { currency: 'EUR', min: 30, max: 90, timeZone: 'Europe/Paris', share: 25, official: 'fr' },
  DE: { currency: 'EUR', min: 45, max: 140, timeZone: 'Europe/Berlin', share: 28, official: 'de' },
  IT: { currency: 'EUR', min: 50, max: 150, timeZone: 'Europe/Rome', share: 17, official: 'it' },
  AT: { currency: 'EUR', min: 55, max: 150, timeZone: 'Europe/Vienna', share: 10, official: 'de' },
};

const BIOS: Record<'de' | 'fr' | 'it', string[]> = {
  de: [
    'Praxis in {city}. Sprechstunde per Video, auch für Folgetermine und Zweitmeinungen.',
    'Langjährige Erfahrung in der Betreuung von Familien, chronischen Krankheiten und Prävention.',
    'Ich nehme mir Zeit für Ihre Fragen. Rezepte und Überweisungen nach der Konsultation.',
  ],
  fr: [
    'Cabinet à {city}. Consultations vidéo, suivis et deuxièmes avis.',
    "Longue expérience du suivi des familles, des maladies chroniques et de la prévention.",
    "Je prends le temps d'écouter vos questions. Ordonnances et lettres de référence après la consultation.",
  ],
  it: [
    'Studio a {city}. Consulti video, controlli e secondi pareri.',
    'Lunga esperienza nella cura delle famiglie, delle malattie croniche e nella prevenzione.',
    'Dedico tempo alle vostre domande. Ricette e impegnative dopo il consulto.',
  ],
};

/** A weekly schedule in the shape of PUT /v1/professionals/me/schedule. */
export interface SeedSchedule {
  rules: Array<{ weekday: number; start: string; end: string }>;
  slotMinutes: number;
  bufferMinutes: number;
  minimumNoticeMinutes: number;
  horizonDays: number;
}

const weekdays = (days: number[], spans: Array<[string, string]>) => days.flatMap((weekday) => spans.map(([start, end]) => ({ weekday, start, end })));

/** A few schedule shapes professionals really have (full time, part time, evenings, Saturdays). */
export const SCHEDULE_TEMPLATES: SeedSchedule[] = [
  { rules: weekdays([1, 2, 3, 4, 5], [['08:00', '12:00'], ['13:30', '17:30']]), slotMinutes: 30, bufferMinutes: 10, minimumNoticeMinutes: 60, horizonDays: 60 },
  { rules: weekdays([1, 2, 4], [['09:00', '12:30']]), slotMinutes: 20, bufferMinutes: 5, minimumNoticeMinutes: 120, horizonDays: 60 },
  { rules: weekdays([1, 3, 5], [['14:00', '19:00']]), slotMinutes: 45, bufferMinutes: 15, minimumNoticeMinutes: 24 * 60, horizonDays: 90 },
  { rules: [...weekdays([2, 3, 4], [['07:30', '11:30']]), ...weekdays([6], [['09:00', '13:00']])], slotMinutes: 30, bufferMinutes: 0, minimumNoticeMinutes: 60, horizonDays: 30 },
  { rules: weekdays([1, 2, 3, 4, 5], [['17:00', '21:00']]), slotMinutes: 30, bufferMinutes: 10, minimumNoticeMinutes: 30, horizonDays: 45 },
];

export interface SeedProfessional {
  id: string;
  displayName: string;
  specialties: string[];
  languages: string[];
  country: SeedCountry;
  city: string;
  latitude: number;
  longitude: number;
  price: { amount: string; currency: string };
  consultationMinutes: number;
  timeZone: string;
  bio: string;
  /** Most are verified; a few wait for an admin (hidden from search). */
  verified: boolean;
  schedule: SeedSchedule;
  /** Share of the free slots of the next two weeks that patients have booked, 0 to 1. */
  bookingLoad: number;
}

export interface DirectoryOptions {
  professionals: number;
  /** The PRNG seed: the same number gives the same directory. */
  seed?: number;
}

/** Patients who book the seeded appointments: a pool this size per professional. */
export const PATIENTS_PER_PROFESSIONAL = 2;

/** Generates the directory (lazily: 50 000 professionals are not held twice). */
export function* generateDirectory(options: DirectoryOptions): Generator<SeedProfessional> {
  const random = prng(options.seed ?? 13);
  const countries = (Object.keys(PRICES) as SeedCountry[]).map((c) => [c, PRICES[c].share] as const);
  for (let i = 0; i < options.professionals; i++) {
    const country = weighted(random, countries);
    const { currency, min, max, timeZone, official } = PRICES[country];
    const city = weighted(random, CITIES[country].map((c) => [c, c.weight] as const));
    // A third of the practitioners come from another language region than their city's.
    const origin = random() < 0.7 ? city.language : pick(random, ['de', 'fr', 'it'] as const);
    const first = pick(random, FIRST_NAMES[origin]);
    const last = pick(random, LAST_NAMES[origin]);
    const title = random() < 0.8 ? 'Dr. ' : random() < 0.5 ? 'Prof. Dr. ' : '';
    const specialty = weighted(random, SPECIALTY_MIX);
    const specialties = random() < 0.15 ? [...new Set([specialty, weighted(random, SPECIALTY_MIX)])] : [specialty];
    const languages = new Set<string>([city.language, origin]);
    if (random() < 0.65) languages.add('en');
    if (random() < 0.15) languages.add(official);
    if (random() < 0.05) languages.add(pick(random, ['es', 'pt', 'tr', 'pl', 'ru', 'ar']));
    // Within ~8 km of the centre (a practice somewhere in the city or its suburbs).
    const latitude = Number((city.latitude + (random() - 0.5) * 0.14).toFixed(5));
    const longitude = Number((city.longitude + (random() - 0.5) * 0.2).toFixed(5));
    const consultationMinutes = weighted(random, [[20, 2], [30, 6], [45, 2], [60, 1]] as const);
    const amount = Math.round((min + random() * (max - min)) / 5) * 5;
    const bio = BIOS[city.language].slice(0, 1 + Math.floor(random() * 3)).join(' ').replace('{city}', city.name);
    yield {
      id: seededUuid(random),
      displayName: `${title}${first} ${last}`,
      specialties,
      languages: [...languages],
      country,
      city: city.name,
      latitude,
      longitude,
      price: { amount: `${amount}.00`, currency },
      consultationMinutes,
      timeZone,
      bio,
      verified: random() < 0.97,
      schedule: pick(random, SCHEDULE_TEMPLATES),
      // Busy practices are common: most have half their near slots taken, some are fully booked.
      bookingLoad: weighted(random, [[0, 2], [0.3, 3], [0.6, 4], [0.9, 2], [1, 1]] as const),
    };
  }
}

/** Deterministic patient ids for the booking load (the same seed gives the same patients). */
export function seedPatients(count: number, seed = 13): string[] {
  const random = prng(seed ^ 0x5eed);
  return Array.from({ length: count }, () => seededUuid(random));
}
