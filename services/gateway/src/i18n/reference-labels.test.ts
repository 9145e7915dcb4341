import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LANGUAGES, languageOf } from './language';
import { countryName, SPECIALTY_NAMES, specialtyName } from './reference-labels';

const migrations = path.resolve(__dirname, '../../../search/prisma/migrations');

/** The specialty codes search's migrations insert. */
function specialtyCodes(): string[] {
  const codes = new Set<string>();
  for (const dir of readdirSync(migrations, { withFileTypes: true }).filter((d) => d.isDirectory())) {
    const sql = readFileSync(path.join(migrations, dir.name, 'migration.sql'), 'utf8');
    for (const insert of sql.matchAll(/INSERT INTO "specialties"[^;]*?VALUES([\s\S]*?)(?:ON CONFLICT|;)/g)) {
      for (const row of insert[1]!.matchAll(/\(\s*'([a-z0-9-]+)'\s*,/g)) codes.add(row[1]!);
    }
  }
  return [...codes].sort();
}

describe('reference data in four languages', () => {
  it('names every specialty of search in every language', () => {
    const codes = specialtyCodes();
    expect(codes.length).toBeGreaterThanOrEqual(20);
    const missing = codes.flatMap((code) => LANGUAGES.filter((l) => !SPECIALTY_NAMES[code]?.[l]).map((l) => `${code}/${l}`));
    expect(missing).toEqual([]);
    expect(specialtyName('cardiology', 'de')).toBe('Kardiologie');
    expect(specialtyName('unheard-of', 'fr', 'Unheard of')).toBe('Unheard of');
  });

  it('names countries from ICU, and keeps search\u2019s name for a code ICU does not know', () => {
    expect(['fr', 'de', 'it', 'en'].map((l) => countryName('CH', l as 'fr', 'Switzerland'))).toEqual(['Suisse', 'Schweiz', 'Svizzera', 'Switzerland']);
    expect(countryName('XX', 'fr', 'Nowhere')).toBe('Nowhere');
    expect(countryName('not a code', 'fr', 'Nowhere')).toBe('Nowhere');
  });

  it.each([
    ['fr-CH,fr;q=0.9,en;q=0.8', 'fr'],
    ['de-CH', 'de'],
    ['de;q=0.5, it;q=0.9', 'it'],
    ['IT', 'it'],
    ['es, pt;q=0.8', 'en'],
    ['*', 'en'],
    ['fr;q=0', 'en'],
    ['fr;q=abc', 'en'],
    ['', 'en'],
    ['\u0000fr', 'en'],
    [`${'fr,'.repeat(300)}de`, 'en'],
  ])('negotiates %j as %s', (header, language) => {
    expect(languageOf({ headers: { 'accept-language': header } })).toBe(language);
  });

  it('answers English when nothing is asked for', () => {
    expect(languageOf({ headers: {} })).toBe('en');
  });
});
