import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';
import {
  ApiClient, embeddedPortOffset, eventually, freePort, repoRoot, seedDemoDirectory, startEmbeddedDev, startPlatform, type EmbeddedDev, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * The web client (web/) in Debian's Chromium against the embedded platform (`make dev`): sign up,
 * search, pick, book, see the invoice, pay through the simulator, see the meeting link.
 *
 * The gateway serves web/dist at / (built here before the platform starts); the page calls the API
 * on its own origin. A fallback static server proxying /v1 and /webhooks covers a gateway without it.
 */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Debian's chromium; `make test` installs it (scripts/infra/browser.sh). A missing browser is a
// failure with a clear message, not a skipped test.
if (!existsSync(chromiumPath)) throw new Error(`no browser at ${chromiumPath}: run scripts/infra/browser.sh (or set CHROMIUM_PATH)`);

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

function staticAndProxy(dist: string, upstream: URL): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/webhooks/')) {
      const proxied = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      proxied.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(proxied);
      res.on('close', () => proxied.destroy());
      return;
    }
    const file = path.join(dist, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
    if (!file.startsWith(dist) || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
}

function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 360, height: 800 },
  });
}

/** web/dist, built once for the whole file (under a second). */
beforeAll(() => {
  try {
    execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'pipe' });
  } catch (err) {
    throw new Error(`web build failed: ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`);
  }
}, 120_000);

describe('web client (web/) in Chromium', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-web-'));
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-chromium-'));
  const offset = embeddedPortOffset() + 50;
  const gatewayUrl = new URL(`http://127.0.0.1:${8080 + offset}`);
  const dist = path.join(repoRoot, 'web/dist');
  let dev: EmbeddedDev | undefined;
  let server: http.Server | undefined;
  let context: BrowserContext | undefined;
  let siteUrl = '';

  beforeAll(async () => {
    dev = await startEmbeddedDev({ offset, pgPort: await freePort(), dataDir });

    // The gateway serves web/dist at / (WEB_ROOT); a gateway that does not gets the page from a
    // small static server proxying the API instead, on one origin all the same.
    const home = await fetch(gatewayUrl);
    if (home.ok && (home.headers.get('content-type') ?? '').includes('text/html') && (await home.text()).includes('id="root"')) {
      siteUrl = gatewayUrl.href;
    } else {
      server = staticAndProxy(dist, gatewayUrl);
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      siteUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    }

    context = await launchChromium(profileDir);
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    server?.closeAllConnections?.();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await dev?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(profileDir, { recursive: true, force: true });
  }, 60_000);

  it('signs up, finds a GP in Switzerland, books, pays and shows the meeting link', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    const streams: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.endsWith('/events')) streams.push(r.url());
    });
    await page.goto(siteUrl);

    // 1. Sign up.
    await page.getByLabel('Your name').fill('Web Patient');
    await page.getByLabel('Email').fill(`web-${Date.now()}@example.ch`);
    await page.getByLabel('Password').fill('web-patient-password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByTestId('signed-in').waitFor();

    // 2. Search: the selects are filled from /v1/specialties and /v1/countries.
    await page.getByLabel('Specialty').selectOption('general-practice');
    await page.getByLabel('Country').selectOption('CH');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    await results.first().waitFor();
    expect(await results.count()).toBeGreaterThan(0);
    expect(await results.first().textContent()).toMatch(/Next available/);

    // 3. Pick the first professional: slots in the professional's time zone.
    await results.first().getByRole('button').click();
    await page.getByText(/time zone \(Europe\/Zurich\)/).waitFor();
    let slot = page.getByRole('button', { name: /^Book / }).first();
    await slot.waitFor();

    // Someone else takes the first slot meanwhile: 409 SLOT_TAKEN, a clear message, slots reloaded.
    const api = async (method: string, route: string, body?: unknown, token?: string) => {
      const res = await fetch(new URL(route, gatewayUrl), {
        method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body === undefined ? undefined : JSON.stringify(body),
      });
      return (await res.json()) as any;
    };
    const other = await api('POST', '/v1/auth/register', { email: `other-${Date.now()}@example.ch`, password: 'other-patient-password', role: 'patient', displayName: 'Other', consents: currentConsents() });
    const professionals = await api('GET', '/v1/professionals?specialty=general-practice&country=CH');
    const firstSlots = await api('GET', `/v1/professionals/${professionals.items[0].id}/slots`);
    const taken = await api('POST', '/v1/appointments', { professionalId: professionals.items[0].id, start: firstSlots.items[0].start }, other.accessToken);
    expect(taken.appointment.status).toBe('held');
    const reloaded = page.waitForResponse((r) => r.url().includes('/slots'));
    await slot.click();
    await page.getByText(/someone has just booked that slot/).waitFor();
    await reloaded;
    slot = page.getByRole('button', { name: /^Book / }).first();
    await eventually(async () => (await slot.getAttribute('aria-label')) !== null && (await slot.isEnabled()));

    // 4. Book: the invoice with its QR code (an <img> of an SVG data URL), BOLT11 and checkout link.
    const booked = page.waitForResponse((r) => r.url().endsWith('/v1/appointments') && r.request().method() === 'POST');
    await slot.click();
    expect((await booked).status()).toBe(201);
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;utf8,%3Csvg/i);
    const bolt11 = await page.getByLabel('Lightning invoice (BOLT11)').inputValue();
    expect(bolt11).toMatch(/^lnbc/);
    expect(await page.getByTestId('sats').textContent()).toMatch(/sats/);
    const checkoutUrl = await page.getByRole('link', { name: 'Open checkout' }).getAttribute('href');
    expect(checkoutUrl).toMatch(/^https?:\/\//);
    await page.locator('[data-step="invoice_ready"].done').waitFor({ timeout: 10_000 });

    // 5. Pay through the simulator; the live stream brings confirmed, then meeting_ready.
    expect((await fetch(`${checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    const join = page.getByTestId('join-url');
    await join.waitFor({ timeout: 30_000 });
    expect(await join.getAttribute('href')).toMatch(/^https?:\/\//);
    expect(await page.locator('.steps li.done').count()).toBe(3);

    if (process.env.WEB_SCREENSHOT) await page.screenshot({ path: process.env.WEB_SCREENSHOT, fullPage: true });
    // The page fits a 360 px screen.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    expect(problems).toEqual([]);
    // The live stream opens with a short-lived stream ticket, never with the access token in the URL.
    expect(streams.length).toBeGreaterThan(0);
    for (const url of streams) {
      expect(url).toMatch(/[?&]ticket=/);
      expect(url).not.toMatch(/access_token/);
    }
    await page.close();
  }, 90_000);
});

/**
 * The same client against the platform as separate processes (real PostgreSQL, Redis, Kafka),
 * where the test holds the payment provider simulator: a provider outage at booking time, a
 * booking whose answer is lost, a stream that fails.
 */
describe('web client in Chromium: provider outage, lost answers, failing streams', () => {
  const profileDir = mkdtempSync(path.join(os.tmpdir(), 'cryptocare-chromium-'));
  let platform: RunningPlatform | undefined;
  let context: BrowserContext | undefined;

  beforeAll(async () => {
    platform = await startPlatform({
      // The pending invoice is retried quickly once the provider is back.
      extraEnv: { payment: { PENDING_RETRY_BASE_MS: '300', PENDING_RETRY_MAX_MS: '1000' }, gateway: { RATE_LIMIT_PER_MINUTE: '10000' } },
    });
    await seedDemoDirectory(platform.gatewayUrl, { email: 'admin@cryptocare.test', password: 'admin-password-1' });
    context = await launchChromium(profileDir);
  }, 240_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    await platform?.stop();
    rmSync(profileDir, { recursive: true, force: true });
  }, 60_000);

  /** A new patient signs up in the page and opens the slots of the first GP in Switzerland. */
  async function signUpAndPickGp(page: Page): Promise<{ accessToken: string }> {
    await page.goto(platform!.gatewayUrl);
    const registered = page.waitForResponse((r) => r.url().endsWith('/v1/auth/register'));
    await page.getByLabel('Your name').fill('Web Patient');
    await page.getByLabel('Email').fill(`web-${Date.now()}-${Math.random().toString(36).slice(2)}@example.ch`);
    await page.getByLabel('Password').fill('web-patient-password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    const session = (await (await registered).json()) as { accessToken: string };
    await page.getByTestId('signed-in').waitFor();
    await page.getByLabel('Specialty').selectOption('general-practice');
    await page.getByLabel('Country').selectOption('CH');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    await results.first().waitFor();
    await results.first().getByRole('button').click();
    await page.getByRole('button', { name: /^Book / }).first().waitFor();
    return session;
  }

  const isBookingPost = (r: Request) => new URL(r.url()).pathname === '/v1/appointments' && r.method() === 'POST';

  it('shows "preparing your invoice" while the provider is down at booking time, then the QR code from the stream', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    await signUpAndPickGp(page);

    // The first stream fails once open (as a gateway does when a later event cannot be read):
    // the page reconnects with a new ticket instead of going quiet.
    const streams: string[] = [];
    await page.route((url) => url.pathname.endsWith('/events'), async (route) => {
      streams.push(route.request().url());
      if (streams.length === 1) {
        await route.fulfill({
          status: 200,
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
          body: 'retry: 60000\n\nevent: error\ndata: {"code":"SERVICE_UNAVAILABLE","message":"payment is down","retryable":true}\n\n',
        });
      } else {
        await route.continue();
      }
    });

    platform!.sbp.failNextCreates(1_000_000); // the payment provider answers 503 to every new invoice
    const booked = page.waitForResponse((r) => isBookingPost(r.request()));
    await page.getByRole('button', { name: /^Book / }).first().click();
    const answer = await booked;
    expect(answer.status()).toBe(201);
    expect(await answer.json()).toMatchObject({ appointment: { status: 'held' }, invoice: null, invoicePending: true });

    // No white page: the booking is shown, its invoice is being prepared.
    const preparing = page.getByTestId('invoice-preparing');
    await preparing.waitFor();
    expect(await preparing.textContent()).toMatch(/Preparing your invoice/);
    expect(await page.getByRole('heading', { name: 'Your booking' }).isVisible()).toBe(true);
    expect(await page.getByRole('img', { name: /QR code/ }).count()).toBe(0);
    await page.waitForTimeout(1_500); // the provider stays down a while: still preparing
    expect(await preparing.isVisible()).toBe(true);

    platform!.sbp.failNextCreates(0); // the provider is back; payment retries the pending invoice
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor({ timeout: 30_000 });
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;utf8,%3Csvg/i);
    expect(await page.getByLabel('Lightning invoice (BOLT11)').inputValue()).toMatch(/^lnbc/);
    expect(await preparing.count()).toBe(0);
    await page.locator('[data-step="invoice_ready"].done').waitFor();

    // The failed stream was followed by another, with a fresh ticket.
    expect(streams.length).toBeGreaterThanOrEqual(2);
    const tickets = streams.map((u) => new URL(u).searchParams.get('ticket'));
    expect(tickets.every(Boolean)).toBe(true);
    expect(new Set(tickets).size).toBeGreaterThanOrEqual(2);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('asks again with the same Idempotency-Key when the booking answer is lost (504), and gets that booking', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    const session = await signUpAndPickGp(page);

    // The first POST reaches the service (the slot is held) but its answer is replaced by a 504,
    // as when the gateway's deadline runs out under load.
    const keys: string[] = [];
    let lost: { appointment: { id: string } } | undefined;
    await page.route((url) => url.pathname === '/v1/appointments', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      if (keys.length === 1) {
        const real = await route.fetch();
        expect(real.status()).toBe(201);
        lost = (await real.json()) as { appointment: { id: string } };
        return route.fulfill({ status: 504, contentType: 'application/json', body: JSON.stringify({ error: { code: 'DEADLINE_EXCEEDED', message: 'deadline exceeded' } }) });
      }
      return route.continue();
    });

    const finalAnswer = page.waitForResponse((r) => isBookingPost(r.request()) && r.status() !== 504);
    await page.getByRole('button', { name: /^Book / }).first().click();
    const answer = await finalAnswer;
    expect(answer.status()).toBe(201);
    const booking = (await answer.json()) as { appointment: { id: string } };

    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    expect(booking.appointment.id).toBe(lost!.appointment.id);
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    // One booking, not two (nor a "slot taken" by our own hold).
    const mine = await new ApiClient(platform!.gatewayUrl).as(session.accessToken).expect(200, 'GET', '/v1/appointments');
    expect(mine.items.map((a: { id: string }) => a.id)).toEqual([booking.appointment.id]);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('says clearly that the booking could not be confirmed when the service keeps failing', async () => {
    const page = await context!.newPage();
    await signUpAndPickGp(page);
    const keys: string[] = [];
    const bookingsUrl = (url: URL) => url.pathname === '/v1/appointments';
    await page.route(bookingsUrl, async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      keys.push(route.request().headers()['idempotency-key'] ?? '');
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'the service is busy, retry shortly' } }) });
    });
    await page.getByRole('button', { name: /^Book / }).first().click();
    const alert = page.getByRole('alert').filter({ hasText: /could not confirm your booking/ });
    await alert.waitFor({ timeout: 30_000 });
    // A few tries, all with one key; none after giving up.
    expect(keys.length).toBe(4);
    expect(new Set(keys).size).toBe(1);
    expect(await page.getByRole('heading', { name: 'Your booking' }).count()).toBe(0);

    // Trying the same slot again later keeps that key (a booking made meanwhile would come back).
    await page.unroute(bookingsUrl);
    const again = page.waitForRequest((r) => isBookingPost(r));
    await page.getByRole('button', { name: /^Book / }).first().click();
    expect((await again).headers()['idempotency-key']).toBe(keys[0]);
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await page.close();
  }, 90_000);

  it('opens the mailed links: confirms the address; "forgot password" mails a link that sets a new password', async () => {
    const api = new ApiClient(platform!.gatewayUrl);
    const email = `web-links-${Date.now()}-${Math.random().toString(36).slice(2)}@example.ch`;
    await api.expect(201, 'POST', '/v1/auth/register', { email, password: 'web-patient-password', role: 'patient', displayName: 'Web Links', consents: currentConsents() });
    const linkIn = (text: string, route: string) => new RegExp(`(http\\S+#/${route}\\?token=[A-Za-z0-9_-]+)`).exec(text)![1]!;

    const verifyMail = await platform!.mail.waitFor(email, (m) => /confirm your email/i.test(m.subject));
    const verifying = await context!.newPage();
    await verifying.goto(linkIn(verifyMail.text, 'verify-email'));
    await verifying.getByText('Your email address is confirmed').waitFor();
    await verifying.close();
    const session = await api.expect(200, 'POST', '/v1/auth/login', { email, password: 'web-patient-password' });
    expect((await api.as(session.accessToken).expect(200, 'GET', '/v1/me')).user.emailVerified).toBe(true);

    const asking = await context!.newPage();
    await asking.goto(platform!.gatewayUrl);
    await asking.getByText('Forgot your password?').click();
    await asking.getByLabel('Address for the reset link').fill(email);
    await asking.getByRole('button', { name: 'Mail me a link' }).click();
    await asking.getByText(/a link to choose a new password is on its way/).waitFor();
    await asking.close();

    const resetMail = await platform!.mail.waitFor(email, (m) => /reset your/i.test(m.subject));
    const resetting = await context!.newPage();
    await resetting.goto(linkIn(resetMail.text, 'reset-password'));
    await resetting.getByLabel('New password', { exact: true }).fill('violet-harbor-cactus-42');
    await resetting.getByRole('button', { name: 'Set the new password' }).click();
    await resetting.getByText(/Your password is changed/).waitFor();
    await resetting.close();
    await api.expect(200, 'POST', '/v1/auth/login', { email, password: 'violet-harbor-cactus-42' });
    // The session from before the reset has ended.
    expect((await api.as(session.accessToken).call('GET', '/v1/me')).status).toBe(401);
  }, 90_000);
});
