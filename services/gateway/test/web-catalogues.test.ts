import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '@cryptocare/testing';
import { formatters } from '../../../web/src/format';

/**
 * The web client's message catalogues (web/src/locales): every language has exactly the keys of
 * English, each a non-empty string using the same {{placeholders}}; and its formatting of money,
 * sats and dates follows the language.
 */
const dir = path.join(repoRoot, 'web/src/locales');
type Tree = { [key: string]: string | Tree };
const flatten = (tree: Tree, prefix = ''): Record<string, string> =>
  Object.entries(tree).reduce<Record<string, string>>(
    (out, [k, v]) => ({ ...out, ...(typeof v === 'string' ? { [prefix + k]: v } : flatten(v, `${prefix}${k}.`)) }),
    {},
  );
const load = (lang: string) => flatten(JSON.parse(readFileSync(path.join(dir, `${lang}.json`), 'utf8')) as Tree);
const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe('web client catalogues', () => {
  const en = load('en');
  const languages = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, ''));

  it('has the four languages', () => {
    expect(languages.sort()).toEqual(['de', 'en', 'fr', 'it']);
  });

  it.each(['fr', 'de', 'it'])('%s has exactly the keys of en, each translated with the same placeholders', (lang) => {
    const other = load(lang);
    expect(Object.keys(other).sort()).toEqual(Object.keys(en).sort());
    for (const [key, text] of Object.entries(other)) {
      expect({ key, empty: text.trim() === '' }).toEqual({ key, empty: false });
      expect({ key, placeholders: placeholders(text) }).toEqual({ key, placeholders: placeholders(en[key]!) });
    }
  });
});

describe('web client formatting by language', () => {
  const instant = '2026-12-07T08:30:00Z';
  it('formats money by locale (CHF, EUR) and sats as whole numbers', () => {
    expect(formatters('de-CH').money({ amount: '1234.50', currency: 'CHF' })).toMatch(/^CHF\s1['’]234\.50$/);
    expect(formatters('fr').money({ amount: '1234.5', currency: 'EUR' })).toMatch(/^1\s234,50\s€$/);
    expect(formatters('en').money({ amount: '80', currency: 'CHF' })).toMatch(/^CHF\s80\.00$/);
    expect(formatters('it').sats(1234567)).toBe('1.234.567 sats');
    expect(formatters('en').money(null)).toBe('—');
  });
  it("formats the ledger's minor units (centimes, cents) as money", () => {
    expect(formatters('fr').minor(12000, 'CHF')).toMatch(/^120,00\sCHF$/);
    expect(formatters('de-CH').minor(5, 'CHF')).toMatch(/^CHF\s0\.05$/);
    expect(formatters('en').minor(-250, 'EUR')).toBe('-€2.50');
    expect(formatters('it').minor(123456789, 'EUR')).toMatch(/^1\.234\.567,89\s€$/);
    expect(formatters('en').minor(100, null)).toBe('—');
  });
  it('formats dates and times in the language and the given time zone', () => {
    expect(formatters('fr').time(instant, 'Europe/Zurich')).toBe('09:30');
    expect(formatters('en').time(instant, 'America/New_York')).toBe('03:30 AM');
    expect(formatters('de').day(instant, 'Europe/Zurich')).toBe('Montag, 7. Dezember');
    expect(formatters('it').day(instant, 'Europe/Zurich')).toBe('lunedì 7 dicembre');
  });
});
