import { standInGateway } from './support/stand-in-gateway';

const profile = (id: string, name: string) => ({ id, displayName: name, specialties: ['cardiology'], languages: ['de'], country: 'CH', city: 'Bern', latitude: 46.9, longitude: 7.4, price: { amount: '180.00', currency: 'CHF' }, consultationMinutes: 30, timeZone: 'Europe/Zurich', bio: '', verified: true, nextAvailableAt: '' });

describe('micro-cache of the public directory reads', () => {
  let g: Awaited<ReturnType<typeof standInGateway>>;
  let answers: string[];

  beforeEach(async () => {
    g = await standInGateway({ publicCacheSeconds: 1 });
    answers = ['Dr. First', 'Dr. Second', 'Dr. Third'];
    g.behaviour['search.searchProfessionals'] = async () => ({ items: [profile('8d6f6c1e-6a3b-4f55-9d1e-2f1f1f1f1f1f', answers.shift()!)], nextCursor: '' });
  });
  afterEach(() => g.close());

  const search = (url = '/v1/professionals?specialty=cardiology', headers: Record<string, string> = {}) => g.app.inject({ method: 'GET', url, headers });
  const searches = () => g.calls.filter((c) => c.method === 'search.searchProfessionals').length;

  it('answers the same anonymous search from the replica for its lifetime, then asks search again', async () => {
    const first = await search();
    const second = await search();
    expect(first.statusCode).toBe(200);
    expect(second.json().items[0].displayName).toBe('Dr. First');
    expect(second.body).toBe(first.body);
    expect(searches()).toBe(1);

    await new Promise((r) => setTimeout(r, 1_100));
    expect((await search()).json().items[0].displayName).toBe('Dr. Second');
    expect(searches()).toBe(2);
  });

  it('keys by the whole query and the language asked for', async () => {
    await search('/v1/professionals?specialty=cardiology');
    await search('/v1/professionals?specialty=cardiology&country=CH');
    await search('/v1/professionals?specialty=cardiology', { 'accept-language': 'fr' });
    expect(searches()).toBe(3);
  });

  it('answers reference data and profiles in the language asked for, one cache entry per language (not per header)', async () => {
    g.behaviour['search.listSpecialties'] = async () => ({ specialties: [{ code: 'cardiology', name: 'Cardiology' }, { code: 'pediatrics', name: 'Pediatrics' }, { code: 'new-one', name: 'New one' }] });
    g.behaviour['search.listCountries'] = async () => ({ countries: [{ code: 'CH', name: 'Switzerland', currency: 'CHF' }, { code: 'DE', name: 'Germany', currency: 'EUR' }] });
    const get = (url: string, language?: string) => g.app.inject({ method: 'GET', url, headers: language === undefined ? {} : { 'accept-language': language } });
    const specialtyCalls = () => g.calls.filter((c) => c.method === 'search.listSpecialties').length;

    const french = await get('/v1/specialties', 'fr-CH,fr;q=0.9,en;q=0.8');
    expect(french.json().items).toEqual([
      { code: 'cardiology', name: 'Cardiologie' },
      { code: 'new-one', name: 'New one' }, // no translation yet: search's own name
      { code: 'pediatrics', name: 'Pédiatrie' },
    ]);
    expect(french.headers['content-language']).toBe('fr');
    expect(String(french.headers.vary)).toMatch(/accept-language/i);
    // Another header meaning French: the same entry, with the same headers.
    const again = await get('/v1/specialties', 'fr');
    expect(again.json()).toEqual(french.json());
    expect([again.headers['content-language'], String(again.headers.vary)]).toEqual(['fr', String(french.headers.vary)]);
    expect(specialtyCalls()).toBe(1);
    // German (q-values: it outranks en), then none of ours: English.
    expect((await get('/v1/specialties', 'en;q=0.5, de;q=0.9')).json().items.map((i: { name: string }) => i.name)).toEqual(['Kardiologie', 'New one', 'Pädiatrie']);
    expect((await get('/v1/specialties', 'es-ES')).json().items.map((i: { name: string }) => i.name)).toEqual(['Cardiology', 'New one', 'Pediatrics']);
    expect(specialtyCalls()).toBe(3);

    expect((await get('/v1/countries', 'it')).json().items).toEqual([
      { code: 'DE', name: 'Germania', currency: 'EUR' },
      { code: 'CH', name: 'Svizzera', currency: 'CHF' },
    ]);
    const italian = await search('/v1/professionals?specialty=cardiology', { 'accept-language': 'it-CH' });
    expect(italian.json().items[0]).toMatchObject({ specialties: ['cardiology'], specialtyNames: ['Cardiologia'] });
    expect(italian.headers['content-language']).toBe('it');
  });

  it('never serves or keeps an answer given with credentials, nor an error', async () => {
    const token = await g.sign('5b0cbb1e-0000-4000-8000-000000000001', 'patient');
    await search('/v1/professionals?specialty=cardiology', { authorization: `Bearer ${token}` });
    await search('/v1/professionals?specialty=cardiology', { authorization: `Bearer ${token}` });
    expect(searches()).toBe(2);

    g.behaviour['search.searchProfessionals'] = async () => {
      throw new Error('search is down');
    };
    expect((await search('/v1/professionals?specialty=dermatology')).statusCode).toBeGreaterThanOrEqual(500);
    g.behaviour['search.searchProfessionals'] = async () => ({ items: [], nextCursor: '' });
    expect((await search('/v1/professionals?specialty=dermatology')).statusCode).toBe(200);
  });

  it('is off when the lifetime is 0', async () => {
    await g.close();
    g = await standInGateway({ publicCacheSeconds: 0 });
    g.behaviour['search.searchProfessionals'] = async () => ({ items: [], nextCursor: '' });
    await search();
    await search();
    expect(searches()).toBe(2);
  });
});
