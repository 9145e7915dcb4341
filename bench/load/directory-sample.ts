import { ApiClient } from '@cryptocare/testing';
import type { DirectorySample } from './patient-journey';

/** What the load generator searches and views: every specialty's first professionals, read from the API. */
export async function sampleDirectory(gatewayUrl: string): Promise<DirectorySample> {
  const api = new ApiClient(gatewayUrl);
  const specialties = ((await api.expect(200, 'GET', '/v1/specialties')).items as Array<{ code: string } | string>).map((s) => (typeof s === 'string' ? s : s.code));
  const countries = ((await api.expect(200, 'GET', '/v1/countries')).items as Array<{ code: string } | string>).map((c) => (typeof c === 'string' ? c : c.code));
  const sample: DirectorySample = { professionalIds: [], specialties, countries, places: [] };
  for (const specialty of specialties) {
    const found = (await api.expect(200, 'GET', `/v1/professionals?specialty=${encodeURIComponent(specialty)}&limit=50`)).items as Array<{ id: string; city: string; latitude: number; longitude: number }>;
    for (const p of found) {
      sample.professionalIds.push(p.id);
      sample.places.push({ city: p.city, latitude: p.latitude, longitude: p.longitude });
    }
  }
  if (sample.professionalIds.length === 0) throw new Error('the directory is empty');
  return sample;
}
