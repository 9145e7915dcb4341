import { currentConsents } from './consents';
import type { MailCatcher } from '@cryptocare/simulators';
import { ApiClient } from './api-client';

/**
 * The demo directory of embedded mode: verified professionals in CH and FR with schedules. Their
 * accounts take the data region of the deployment they are seeded into (the country is where
 * they practise, not where their data lives: docs/compliance/data-region.md).
 */
export const demoProfessionals = [
  { email: 'dr.keller@demo.cryptocare.ch', displayName: 'Dr. Anna Keller', specialties: ['general-practice'], languages: ['de', 'en'], country: 'CH', city: 'Zürich', latitude: 47.3769, longitude: 8.5417, price: { amount: '120.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' },
  { email: 'dr.meier@demo.cryptocare.ch', displayName: 'Dr. Lukas Meier', specialties: ['cardiology'], languages: ['de', 'fr', 'en'], country: 'CH', city: 'Bern', latitude: 46.948, longitude: 7.4474, price: { amount: '180.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' },
  { email: 'dr.rossi@demo.cryptocare.ch', displayName: 'Dr. Giulia Rossi', specialties: ['dermatology'], languages: ['it', 'fr', 'en'], country: 'CH', city: 'Lugano', latitude: 46.0037, longitude: 8.9511, price: { amount: '150.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' },
  { email: 'dr.favre@demo.cryptocare.ch', displayName: 'Dr. Claire Favre', specialties: ['psychiatry', 'psychology'], languages: ['fr', 'en'], country: 'CH', city: 'Genève', latitude: 46.2044, longitude: 6.1432, price: { amount: '160.00', currency: 'CHF' }, timeZone: 'Europe/Zurich' },
  { email: 'dr.martin@demo.cryptocare.fr', displayName: 'Dr. Julien Martin', specialties: ['general-practice'], languages: ['fr', 'en'], country: 'FR', city: 'Lyon', latitude: 45.764, longitude: 4.8357, price: { amount: '60.00', currency: 'EUR' }, timeZone: 'Europe/Paris' },
  { email: 'dr.bernard@demo.cryptocare.fr', displayName: 'Dr. Sophie Bernard', specialties: ['pediatrics'], languages: ['fr'], country: 'FR', city: 'Paris', latitude: 48.8566, longitude: 2.3522, price: { amount: '70.00', currency: 'EUR' }, timeZone: 'Europe/Paris' },
  { email: 'dr.dubois@demo.cryptocare.fr', displayName: 'Dr. Marc Dubois', specialties: ['nutrition'], languages: ['fr', 'de'], country: 'FR', city: 'Strasbourg', latitude: 48.5734, longitude: 7.7521, price: { amount: '55.00', currency: 'EUR' }, timeZone: 'Europe/Paris' },
];

/** The token of the newest verification mail to `to` (waits for it). */
export async function verificationToken(mail: MailCatcher, to: string): Promise<string> {
  const message = await mail.waitFor(to, (m) => /confirm your email/i.test(m.subject) && /token: [A-Za-z0-9_-]{43}/.test(m.text));
  return /token: ([A-Za-z0-9_-]{43})/.exec(message.text)![1]!;
}

export const DEMO_PASSWORD = 'demo-password-2026';

/** Weekdays 08:00–12:00 and 13:30–17:30, 30-minute slots with a 10-minute buffer. */
export const demoSchedule = {
  rules: [1, 2, 3, 4, 5].flatMap((weekday) => [
    { weekday, start: '08:00', end: '12:00' },
    { weekday, start: '13:30', end: '17:30' },
  ]),
  slotMinutes: 30,
  bufferMinutes: 10,
  minimumNoticeMinutes: 60,
  horizonDays: 60,
};

/**
 * Creates (or completes) the demo directory through the public API, as real professionals and an
 * admin would. Idempotent: professionals that can already log in are only re-verified.
 */
/**
 * `mail`: where identity's mails land (the mail catcher); each new professional's address is then
 * verified through its link, so `make dev`'s demo accounts never run into the unverified grace period.
 */
export async function seedDemoDirectory(baseUrl: string, admin: { email: string; password: string }, options: { mail?: MailCatcher } = {}): Promise<string[]> {
  const api = new ApiClient(baseUrl);
  const adminToken = (await api.expect(200, 'POST', '/v1/auth/login', admin)).accessToken as string;
  const ids: string[] = [];
  for (const p of demoProfessionals) {
    let session = await api.call('POST', '/v1/auth/login', { email: p.email, password: DEMO_PASSWORD });
    // Seeded as another region's account by an older version (a data directory of `make dev` from
    // before deployments had a region): it cannot sign in here any more; left as it is.
    if (session.status === 421) continue;
    if (session.status !== 200) {
      session = { ...session, body: await api.expect(201, 'POST', '/v1/auth/register', { email: p.email, password: DEMO_PASSWORD, role: 'professional', displayName: p.displayName, consents: currentConsents() }) };
      if (options.mail) await api.expect(200, 'POST', '/v1/auth/verify-email', { token: await verificationToken(options.mail, p.email) });
    }
    const me = api.as(session.body.accessToken);
    const { email: _email, displayName: _name, ...profile } = p;
    await me.expect(200, 'PUT', '/v1/professionals/me', { ...profile, consultationMinutes: 30, bio: `${p.displayName} consults in ${p.languages.join(', ')}.` });
    await me.expect(200, 'PUT', '/v1/professionals/me/schedule', demoSchedule);
    await api.as(adminToken).expect(200, 'POST', `/v1/admin/professionals/${session.body.user.id}/verify`);
    ids.push(session.body.user.id);
  }
  return ids;
}
