import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page, type Request, type Route } from 'playwright-core';
import {
  ApiClient, embeddedPortOffset, eventually, freePort, repoRoot, seedDemoDirectory, startEmbeddedDev, startPlatform, type EmbeddedDev, type RunningPlatform, currentConsents } from '@cryptocare/testing';

/**
 * The web client (web/) in Debian's Chromium against the embedded platform (`make dev`): sign up,
 * search, open a professional's page, book, see the invoice, pay through the simulator, see the
 * meeting link, reload and still be signed in. Every page visited is checked with axe-core (no
 * serious or critical violation) and photographed (into WEB_SCREENSHOTS_DIR, e.g. docs/screenshots).
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

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page (evaluated through the DevTools protocol, so the page's CSP does not stop it): no serious or critical violation. */
async function expectAccessible(page: Page, where: string): Promise<void> {
  await page.evaluate(`typeof axe === 'undefined' ? (0, eval)(${JSON.stringify(axeSource)}) : undefined`);
  const violations = await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })))`);
  expect({ where, violations }).toEqual({ where, violations: [] });
}

const shotsDir = process.env.WEB_SCREENSHOTS_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'cryptocare-shots-'));
const MOBILE = { width: 360, height: 800 };
const DESKTOP = { width: 1280, height: 900 };
async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** The money movements a booking's Payments section lists, by kind (web/src/pages/Money.tsx). */
const movementKinds = async (section: Locator) => Promise.all((await section.locator('li[data-kind]').all()).map((li) => li.getAttribute('data-kind')));

/**
 * Counts, in the page, the times a booking's payments lose their movements once shown (the section
 * blinking back to "Loading" while the changed booking's ledger is read again). Read the count with
 * `movementsLost`. A string, run in the page: this file is compiled without the DOM's types.
 */
const WATCH_MOVEMENTS = `(() => {
  const shownNow = () => document.querySelector('[data-testid="money"] li[data-kind]') !== null;
  window.movementsLost = 0;
  let shown = shownNow();
  new MutationObserver(() => {
    const now = shownNow();
    if (shown && !now) window.movementsLost += 1;
    shown = now;
  }).observe(document.body, { childList: true, subtree: true });
})()`;
async function watchMovements(page: Page): Promise<void> {
  await page.evaluate(WATCH_MOVEMENTS);
}
const movementsLost = (page: Page) => page.evaluate('window.movementsLost');

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
    let file = path.join(dist, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
    if (!file.startsWith(dist)) {
      res.writeHead(404).end('not found');
      return;
    }
    // The client's pages (/bookings/…, /professionals/…) are index.html.
    if (!existsSync(file)) file = path.join(dist, 'index.html');
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
}

function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: MOBILE,
    timezoneId: 'Europe/Zurich',
    locale: 'en-GB',
  });
}

const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** web/dist, built once for the whole file (under a second). */
beforeAll(() => {
  try {
    // NODE_ENV=production: jest's 'test' would make Vite build React's development bundle.
    execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
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

  it('signs up, finds a GP in Switzerland, opens their page, books, pays, shows the meeting link, and is still signed in after a reload', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    const streams: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname.endsWith('/events')) streams.push(r.url());
    });
    await page.setViewportSize(DESKTOP);
    await page.goto(siteUrl);
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await expectAccessible(page, 'home');
    await screenshot(page, 'home-desktop');
    await page.setViewportSize(MOBILE);

    // 1. Sign up.
    await page.getByLabel('Your name').fill('Web Patient');
    const email = `web-${Date.now()}@example.ch`;
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('web-patient-password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.getByTestId('signed-in').waitFor();

    // 2. Search: the selects are filled from /v1/specialties and /v1/countries; the search is in the URL.
    await page.getByLabel('Specialty').selectOption('general-practice');
    await page.getByLabel('Country').selectOption('CH');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const results = page.getByRole('list', { name: 'Search results' }).getByRole('listitem');
    await results.first().waitFor();
    expect(await results.count()).toBeGreaterThan(0);
    expect(await results.first().textContent()).toMatch(/Next available/);
    expect(new URL(page.url()).searchParams.get('specialty')).toBe('general-practice');
    await expectAccessible(page, 'search results');

    // 3. The professional's page (a real URL): slots in the patient's time zone (here also theirs).
    const name = (await results.first().getByRole('heading').textContent())!;
    await results.first().getByRole('link', { name: /See slots/ }).click();
    await page.waitForURL(/\/professionals\/[0-9a-f-]{36}$/);
    await page.getByRole('heading', { name, level: 1 }).waitFor();
    await page.getByText('Times in your time zone (Europe/Zurich).').waitFor();
    expect(await page.title()).toBe(`${name} · CryptoCare`);
    let slot = page.getByRole('button', { name: /^Book / }).first();
    await slot.waitFor();
    await expectAccessible(page, 'professional page');
    await screenshot(page, 'professional-mobile');

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

    // 4. Book: the booking's own page, with the invoice's QR code (an <img> of an SVG data URL), BOLT11, wallet and checkout links.
    const booked = page.waitForResponse((r) => r.url().endsWith('/v1/appointments') && r.request().method() === 'POST');
    await slot.click();
    expect((await booked).status()).toBe(201);
    await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
    const qr = page.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;utf8,%3Csvg/i);
    const bolt11 = await page.getByLabel('Lightning invoice (BOLT11)').inputValue();
    expect(bolt11).toMatch(/^lnbc/);
    expect(await page.getByTestId('sats').textContent()).toMatch(/sats/);
    expect(await page.getByRole('link', { name: 'Open in wallet' }).getAttribute('href')).toMatch(/^(bitcoin|lightning):/i);
    expect(await page.getByTestId('countdown').textContent()).toMatch(/^Pay within \d+:\d\d$/);
    const checkoutUrl = await page.getByRole('link', { name: 'Open checkout' }).getAttribute('href');
    expect(checkoutUrl).toMatch(/^https?:\/\//);
    await page.locator('[data-step="invoice_ready"].done').waitFor({ timeout: 10_000 });
    await expectAccessible(page, 'booking with invoice');
    await screenshot(page, 'invoice-mobile');

    // 5. Pay through the simulator; the live stream brings confirmed, then meeting_ready.
    expect((await fetch(`${checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    const join = page.getByTestId('join-url');
    await join.waitFor({ timeout: 30_000 });
    expect(await join.getAttribute('href')).toMatch(/^https?:\/\//);
    expect(await page.locator('.steps li.done').count()).toBe(3);
    // Payments (the booking's ledger): the invoice and its payment, settled.
    await page.getByRole('region', { name: 'Payments' }).getByTestId('money-state').filter({ hasText: /^Settled: [\d,]+ sats \(CHF\s[\d,.]+\) paid for this booking\.$/ }).waitFor();

    // The page fits a 360 px screen.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);

    // 6. A reload keeps the session: the refresh token is an httpOnly cookie the page cannot read.
    const cookie = (await context!.cookies(siteUrl + 'v1/auth/refresh')).find((c) => c.name === 'cc_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/v1/auth' });
    expect(await page.evaluate('document.cookie')).not.toContain('cc_refresh');
    expect(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage })')).not.toMatch(/eyJ|refresh/i);
    await page.reload();
    await page.getByTestId('signed-in').waitFor();
    await page.getByTestId('join-url').waitFor();
    expect(await page.getByTestId('booking-status').textContent()).toBe('confirmed');

    // …and renews the access token before it expires (15 min): the page's clock jumps 14.5 min ahead.
    const later = await context!.newPage();
    await later.clock.install();
    const refreshes: number[] = [];
    later.on('response', (r) => {
      if (new URL(r.url()).pathname === '/v1/auth/refresh') refreshes.push(r.status());
    });
    await later.goto(page.url());
    await later.getByTestId('signed-in').waitFor();
    expect(refreshes).toEqual([200]);
    await later.clock.fastForward('14:30');
    await eventually(async () => refreshes.length >= 2);
    expect(refreshes).toEqual([200, 200]);
    await later.close();

    // Tabs opened at the same moment take turns with the rotating refresh token (none is taken for a
    // reuse): each answer reaches the browser half a second late, as on a slow network, so without
    // turns the next tab would send the cookie the server has just rotated.
    const slowRefresh = async (route: Route) => {
      const answer = await route.fetch();
      await new Promise((r) => setTimeout(r, 500));
      await route.fulfill({ response: answer });
    };
    await context!.route('**/v1/auth/refresh', slowRefresh);
    const tabs = await Promise.all([context!.newPage(), context!.newPage(), context!.newPage()]);
    const answers: number[] = [];
    for (const tab of tabs) tab.on('response', (r) => new URL(r.url()).pathname === '/v1/auth/refresh' && answers.push(r.status()));
    await Promise.all(tabs.map((tab) => tab.goto(page.url())));
    await Promise.all(tabs.map((tab) => tab.getByTestId('signed-in').waitFor()));
    expect(answers).toEqual([200, 200, 200]);
    await Promise.all(tabs.map((tab) => tab.close()));
    await context!.unroute('**/v1/auth/refresh', slowRefresh);

    // 6b. An under-paid invoice that ends while the booking is held: the booking page says "you paid
    //     X of Y, pay the rest" with the top-up's QR code and links; paying the rest confirms it.
    const { accessToken } = await api('POST', '/v1/auth/login', { email, password: 'web-patient-password' });
    const moreSlots = await api('GET', `/v1/professionals/${professionals.items[0].id}/slots`);
    const short = await api('POST', '/v1/appointments', { professionalId: professionals.items[0].id, start: moreSlots.items[0].start }, accessToken);
    const pay = (url: string, body: unknown) => fetch(`${url}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await pay(short.invoice.checkoutUrl, { method: 'onchain', sats: Math.floor(short.invoice.sats / 2) })).ok).toBe(true);
    expect((await fetch(`${short.invoice.checkoutUrl}/expire`, { method: 'POST' })).ok).toBe(true);
    const { topUp } = await eventually(async () => {
      const b = await api('GET', `/v1/appointments/${short.appointment.id}`, undefined, accessToken);
      return b.topUp ? b : undefined;
    }, 30_000);
    await page.goto(new URL(`bookings/${short.appointment.id}`, siteUrl).href);
    const rest = page.getByTestId('top-up');
    await rest.getByTestId('top-up-paid').waitFor({ timeout: 15_000 });
    expect(await rest.getByTestId('top-up-paid').textContent()).toMatch(/^You paid .+ of .+\. Pay the rest, .+, with this second invoice to confirm your booking\.$/);
    expect(await rest.getByRole('img', { name: /QR code/ }).getAttribute('src')).toMatch(/^data:image\/svg\+xml;utf8,%3Csvg/i);
    expect(await rest.getByLabel('Lightning invoice (BOLT11)').inputValue()).toBe(topUp.invoice.lightningInvoice);
    expect(await rest.getByRole('link', { name: 'Open in wallet' }).getAttribute('href')).toBe(topUp.invoice.paymentUri);
    await expectAccessible(page, 'booking with a top-up');
    expect((await pay(topUp.invoice.checkoutUrl, {})).ok).toBe(true);
    await eventually(async () => (await page.getByTestId('booking-status').textContent()) === 'confirmed', 30_000);

    // 7. My bookings lists it as upcoming; signing out ends the session and the cookie.
    await page.getByRole('link', { name: 'My bookings' }).first().click();
    await page.getByRole('list', { name: 'Upcoming' }).getByRole('listitem').first().waitFor();
    await expectAccessible(page, 'my bookings');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor({ state: 'detached' });
    await eventually(async () => !(await context!.cookies(siteUrl + 'v1/auth/refresh')).some((c) => c.name === 'cc_refresh'));
    await page.reload();
    await page.getByText('Sign in to see this page.').waitFor();

    expect(problems).toEqual([]);
    // The live stream opens with a short-lived stream ticket, never with the access token in the URL.
    expect(streams.length).toBeGreaterThan(0);
    for (const url of streams) {
      expect(url).toMatch(/[?&]ticket=/);
      expect(url).not.toMatch(/access_token/);
    }
    await page.close();
  }, 90_000);

  it('answers a page per professional with their name in the HTML, and the client routes on reload', async () => {
    const list = (await (await fetch(new URL('/v1/professionals?country=CH', gatewayUrl))).json()) as { items: Array<{ id: string; displayName: string }> };
    const one = list.items[0]!;
    const res = await fetch(new URL(`/professionals/${one.id}`, siteUrl), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain(`<title>${one.displayName} · CryptoCare</title>`);
    const page = await context!.newPage();
    await page.goto(new URL('/no/such/page', siteUrl).href);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.goto(new URL('/privacy', siteUrl).href);
    await page.getByText(/^Placeholder:/).waitFor();
    await expectAccessible(page, 'privacy');
    await page.close();
  }, 30_000);
});

/**
 * The same client against the platform as separate processes (real PostgreSQL, Redis, Kafka),
 * where the test holds the payment provider simulator: a provider outage at booking time, a
 * booking whose answer is lost, a stream that fails.
 */
/** The calendar date of an instant in Europe/Zurich (the professionals' zone in these tests), as YYYY-MM-DD. */
const zurichDate = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Zurich', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));

describe('web client in Chromium: provider outage, lost answers, failing streams; each role in two languages', () => {
  let platform: RunningPlatform | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const admin = { email: 'admin@cryptocare.test', password: 'admin-password-1' };

  beforeAll(async () => {
    platform = await startPlatform({
      // The pending invoice is retried quickly once the provider is back.
      extraEnv: { payment: { PENDING_RETRY_BASE_MS: '300', PENDING_RETRY_MAX_MS: '1000' }, gateway: { RATE_LIMIT_PER_MINUTE: '10000' } },
    });
    await seedDemoDirectory(platform.gatewayUrl, admin);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: LAUNCH_ARGS });
    context = await browser.newContext({ viewport: MOBILE, timezoneId: 'Europe/Zurich', locale: 'en-GB' });
  }, 240_000);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await platform?.stop();
  }, 60_000);

  /** A new patient signs up in the page and opens the slots of the first GP in Switzerland. */
  async function signUpAndPickGp(page: Page): Promise<{ accessToken: string }> {
    await page.context().clearCookies(); // not the previous test's patient
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
    await results.first().getByRole('link', { name: /See slots/ }).click();
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
    await context!.clearCookies(); // signed out: the panel of mailed links shows
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

  /** A date `days` from now as an <input type="date"> takes it. */
  const dayFromNow = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

  async function adminPage(): Promise<Page> {
    const adminContext = await browser!.newContext({ viewport: DESKTOP, timezoneId: 'Europe/Zurich', locale: 'en-GB' });
    const page = await adminContext.newPage();
    await page.goto(platform!.gatewayUrl);
    await page.getByRole('button', { name: 'I already have an account' }).click();
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/admin$/);
    await page.getByRole('heading', { name: 'Administration', level: 1 }).waitFor();
    return page;
  }

  it('a patient in French searches by specialty, place, language, price and date, books, pays, cancels (refund due); in German sees it in past bookings; an admin pays the refund', async () => {
    const patientContext = await browser!.newContext({ viewport: MOBILE, timezoneId: 'America/New_York', locale: 'fr-CH' });
    const page = await patientContext.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(platform!.gatewayUrl);
    // The browser's language: French.
    await page.getByRole('heading', { name: 'Créer un compte' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('fr');
    await page.getByLabel('Votre nom').fill('Patiente Web');
    const email = `web-fr-${Date.now()}@example.ch`;
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Mot de passe').fill('web-patient-password');
    await page.getByRole('button', { name: "S'inscrire" }).click();
    await page.getByTestId('signed-in').waitFor();

    // Psychiatry in Switzerland, in French, free within three weeks: none at 150 at most, Dr. Favre at 170.
    await page.getByLabel('Spécialité').selectOption('psychiatry');
    await page.getByLabel('Pays').selectOption('CH');
    await page.getByLabel('Parle').selectOption('fr');
    await page.getByLabel('Libre avant').fill(dayFromNow(21));
    await page.getByLabel('Prix maximum').fill('150');
    await page.getByRole('button', { name: 'Rechercher', exact: true }).click();
    await page.getByText('Aucun professionnel ne correspond à cette recherche.').waitFor();
    await page.getByLabel('Prix maximum').fill('170');
    await page.getByRole('button', { name: 'Rechercher', exact: true }).click();
    const results = page.getByRole('list', { name: 'Résultats de la recherche' }).getByRole('listitem');
    await results.first().waitFor();
    expect(await results.getByRole('heading').allTextContents()).toEqual(['Dr. Claire Favre']);
    expect(await results.first().textContent()).toMatch(/160,00\sCHF/);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toMatchObject({ specialty: 'psychiatry', country: 'CH', language: 'fr', maxPrice: '170' });
    await expectAccessible(page, 'search (fr)');

    // Her page: the patient's time zone, and hers since they differ.
    await results.first().getByRole('link', { name: /Voir les créneaux/ }).click();
    await page.getByRole('heading', { name: 'Dr. Claire Favre', level: 1 }).waitFor();
    await page.getByText('Heures dans votre fuseau horaire (America/New_York). Dr. Claire Favre travaille dans le fuseau Europe/Zurich.').waitFor();
    const slot = page.getByRole('button', { name: /^Réserver / }).first();
    await slot.waitFor();
    await expectAccessible(page, 'professional page (fr)');
    await slot.click();
    await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
    const bookingId = new URL(page.url()).pathname.split('/').pop();
    await page.getByRole('img', { name: /Code QR/ }).waitFor();
    expect(await page.getByTestId('countdown').textContent()).toMatch(/^Payez dans les \d+:\d\d$/);
    await expectAccessible(page, 'invoice (fr)');
    await screenshot(page, 'invoice-mobile-fr');

    // Pays, then cancels: the refund is due.
    const checkoutUrl = (await page.getByRole('link', { name: 'Ouvrir la page de paiement' }).getAttribute('href'))!;
    expect((await fetch(`${checkoutUrl}/pay`, { method: 'POST' })).ok).toBe(true);
    await page.getByTestId('join-url').waitFor({ timeout: 30_000 });
    // Payments (the booking's ledger), in French: the invoice and its payment, settled.
    const money = page.getByRole('region', { name: 'Paiements' });
    await money.getByTestId('money-state').filter({ hasText: /^Réglé : [\d\s]+ sats \(160,00\sCHF\) payés pour ce rendez-vous\.$/ }).waitFor();
    expect(await movementKinds(money)).toEqual(['invoice_created', 'paid']);
    // Moves it to another of the professional's times first (same payment; the meeting follows).
    await page.getByRole('button', { name: "Changer l'horaire" }).click();
    await page.getByRole('heading', { name: 'Choisir un nouvel horaire' }).waitFor();
    const target = page.getByRole('button', { name: /^Déplacer au / }).nth(1);
    await target.waitFor();
    await expectAccessible(page, 'reschedule (fr)');
    const newTime = (await target.getAttribute('aria-label'))!.replace(/^Déplacer au /, '');
    await target.click();
    await page.getByRole('status').filter({ hasText: `Votre consultation commence désormais le ${newTime}.` }).waitFor();
    // The booking says its new time, still confirmed.
    await page.locator('p').filter({ hasText: newTime }).filter({ has: page.getByTestId('booking-status').filter({ hasText: 'confirmé' }) }).waitFor();
    await page.getByRole('button', { name: 'Annuler le rendez-vous' }).click();
    await page.getByRole('button', { name: "Oui, l'annuler" }).click();
    const outcome = page.getByTestId('refund-outcome');
    await outcome.getByText(/^Un remboursement de [\d\s  ]+ sats vous est dû\.$/).waitFor({ timeout: 30_000 });
    await money.getByTestId('money-state').filter({ hasText: /^[\d\s]+ sats \(160,00\sCHF\) vous sont dus en remboursement\.$/ }).waitFor({ timeout: 30_000 });
    await expectAccessible(page, 'cancelled with refund (fr)');
    // Where it goes: a Lightning address.
    await outcome.getByLabel(/^Où l'envoyer/).fill('patiente@wallet.example.com');
    await outcome.getByRole('button', { name: 'Enregistrer' }).click();
    await outcome.getByText('Remboursement vers : patiente@wallet.example.com').waitFor();

    // The switch: German, kept across a reload (the session too).
    await page.getByLabel('Langue').selectOption('de');
    await page.getByText('Diese Buchung wurde storniert.').waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    await page.getByRole('link', { name: 'Meine Termine' }).first().click();
    const past = page.getByRole('list', { name: 'Vergangen' }).getByRole('listitem');
    await past.first().waitFor();
    expect(await past.count()).toBe(1);
    expect(await past.first().textContent()).toMatch(/Dr\. Claire Favre · storniert/);
    await page.reload();
    await page.getByText(/^Angemeldet als Patiente Web$/).waitFor();
    await past.first().waitFor();
    await expectAccessible(page, 'my bookings (de)');
    await screenshot(page, 'bookings-mobile-de');

    // The admin's refund queue: marks it paid with its transaction reference.
    const adminView = await adminPage();
    const queue = adminView.getByRole('list', { name: 'Refunds' }).getByRole('listitem');
    await queue.first().waitFor();
    const mine = queue.filter({ hasText: 'patiente@wallet.example.com' });
    await mine.getByLabel('Transaction reference').fill('web-refund-tx-0001');
    await mine.getByRole('button', { name: 'Mark paid' }).click();
    await adminView.getByLabel('Show').selectOption('paid');
    await adminView.getByText('web-refund-tx-0001').waitFor();
    await expectAccessible(adminView, 'admin refunds');
    await adminView.context().close();

    await past.first().getByRole('link').click();
    await page.getByText(/wurden erstattet \(Referenz web-refund-tx-0001\)/).waitFor();
    await page.getByRole('region', { name: 'Zahlungen' }).getByTestId('money-state').filter({ hasText: /^Zurückerstattet: Die bezahlten [\d.]+ sats wurden Ihnen zurückgezahlt\.$/ }).waitFor();
    expect(await movementKinds(page.getByRole('region', { name: 'Zahlungen' }))).toEqual(['invoice_created', 'paid', 'refund_due', 'refund_paid']);

    // My data, in German: the consents given at sign-up; the export (a JSON file) holds the booking and its refund.
    await page.getByRole('link', { name: 'Meine Daten' }).click();
    await page.getByRole('heading', { name: 'Meine Daten', level: 1 }).waitFor();
    await page.getByRole('list', { name: 'Meine Einwilligungen' }).getByText(/^Datenschutzerklärung · erteilt · Version /).waitFor();
    await expectAccessible(page, 'my data (de)');
    const downloading = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Meine Daten herunterladen' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^cryptocare-export-\d{4}-\d{2}-\d{2}\.json$/);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8')) as {
      user: { email: string }; appointments: Array<{ id: string; status: string }>; invoices: Array<{ appointmentId: string; refund: { txReference: string | null } | null }>;
    };
    expect(exported.user.email).toBe(email);
    expect(exported.appointments.map((a) => [a.id, a.status])).toEqual([[bookingId, 'cancelled']]);
    expect(exported.invoices.map((i) => [i.appointmentId, i.refund?.txReference])).toEqual([[bookingId, 'web-refund-tx-0001']]);

    // Erasure, after a confirmation that says what it means: signed out, and the account cannot sign in again.
    await page.getByRole('button', { name: 'Mein Konto löschen' }).click();
    await page.getByRole('alertdialog').getByText(/^Das lässt sich nicht rückgängig machen: Sie werden abgemeldet/).waitFor();
    await expectAccessible(page, 'erase confirmation (de)');
    await page.getByRole('button', { name: 'Ja, alles löschen' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('heading', { name: 'Konto erstellen' }).waitFor();
    expect(await page.getByTestId('signed-in').count()).toBe(0);
    const login = await fetch(new URL('/v1/auth/login', platform!.gatewayUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'web-patient-password' }) });
    expect(login.status).toBe(401);
    expect(problems).toEqual([]);
    await patientContext.close();
  }, 120_000);

  it('an over-payment confirms the booking and shows the excess owed back, with its destination form; an admin in German reconciles the invoices and downloads the CSV', async () => {
    const page = await context!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    await signUpAndPickGp(page);
    await page.getByRole('button', { name: /^Book / }).first().click();
    await page.waitForURL(/\/bookings\/[0-9a-f-]{36}$/);
    const bookingId = new URL(page.url()).pathname.split('/').pop()!;
    const money = page.getByRole('region', { name: 'Payments' });
    await money.getByTestId('money-state').filter({ hasText: /^Nothing paid yet\.$/ }).waitFor();
    await money.locator('li[data-kind="invoice_created"]').waitFor();
    await watchMovements(page);
    const due = Number((await page.getByTestId('sats').textContent())!.replace(/\D/g, ''));
    expect(due).toBeGreaterThan(0);

    // 10 000 sats more than asked, on-chain (the simulator's over-payment): confirmed, the excess owed back.
    const checkoutUrl = (await page.getByRole('link', { name: 'Open checkout' }).getAttribute('href'))!;
    const paid = await fetch(`${checkoutUrl}/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: 'onchain', sats: due + 10_000 }) });
    expect(paid.status).toBe(200);
    await page.getByTestId('booking-status').filter({ hasText: /^confirmed$/ }).waitFor({ timeout: 30_000 });
    await money.getByTestId('money-state').filter({ hasText: /^A refund of 10,000 sats \(CHF\s10\.00\) is owed to you\.$/ }).waitFor({ timeout: 30_000 });
    expect(await movementKinds(money)).toEqual(['invoice_created', 'over', 'refund_due']);
    // The refund shows on the confirmed booking (not only on a cancelled one), with where it goes.
    const refund = page.getByTestId('refund-outcome');
    await refund.getByText('A refund of 10,000 sats is due to you.').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('booking-status').textContent()).toBe('confirmed');
    await refund.getByLabel(/^Where should we send it/).fill('over@wallet.example.com');
    await refund.getByRole('button', { name: 'Save' }).click();
    await refund.getByText('Refund to: over@wallet.example.com').waitFor();
    // Paid, confirmed, the excess owed back, the booking read again: the movements never vanished.
    expect(await movementsLost(page)).toBe(0);
    await expectAccessible(page, 'over-payment: payments and refund');
    await screenshot(page, 'booking-payments-mobile');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(MOBILE.width);

    // The admin, in German: the reconciliation page (its own URL), this week's invoices against the provider.
    const adminView = await adminPage();
    await adminView.getByLabel('Language').selectOption('de');
    await adminView.getByRole('heading', { name: 'Verwaltung', level: 1 }).waitFor();
    await adminView.getByRole('navigation', { name: 'Bereiche der Administration' }).getByRole('link', { name: 'Abgleich' }).click();
    await adminView.waitForURL(/\/admin\/ledger$/);
    await adminView.getByRole('heading', { name: 'Abgleich', level: 1 }).waitFor();
    // A period the API refuses is said at once, and not asked.
    const from = await adminView.getByLabel('Von (Datum)').inputValue();
    await adminView.getByLabel('Von (Datum)').fill('2020-01-01');
    await adminView.getByRole('alert').getByText('Ein Bericht umfasst höchstens 92 Tage.').waitFor();
    expect(await adminView.getByRole('button', { name: 'Abgleichen' }).isDisabled()).toBe(true);
    await adminView.getByLabel('Von (Datum)').fill('');
    await adminView.getByRole('alert').getByText('Wählen Sie beide Daten.').waitFor();
    await adminView.getByLabel('Von (Datum)').fill(from);
    await adminView.getByRole('button', { name: 'Abgleichen' }).click();
    const table = adminView.getByRole('region', { name: 'Rechnungen: unser Hauptbuch gegenüber dem Anbieter' });
    const row = table.getByRole('row').filter({ hasText: bookingId });
    await row.waitFor({ timeout: 30_000 });
    const de = (n: number) => `${new Intl.NumberFormat('de').format(n)} sats`;
    const cells = (await row.getByRole('cell').allTextContents()).map((c) => c.replace(/\s+/g, ' '));
    expect(cells.slice(1, 4)).toEqual([bookingId, 'swiss-bitcoin-pay', de(due)]);
    expect(cells[4]).toMatch(new RegExp(`^${de(due + 10_000)}.*CHF`));
    expect([cells[5], cells[7]]).toEqual([de(due + 10_000), 'stimmt überein']);
    await expectAccessible(adminView, 'admin reconciliation (de)');
    await screenshot(adminView, 'admin-reconciliation-desktop-de');

    // The accountant's CSV, fetched with the admin's token: the header, and this booking's invoice matching.
    const downloading = adminView.waitForEvent('download');
    await adminView.getByRole('button', { name: 'CSV herunterladen' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/^reconciliation-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv$/);
    const lines = readFileSync((await download.path())!, 'utf8').split('\r\n');
    expect(lines[0]).toBe('invoice_id,appointment_id,provider,provider_invoice_id,created_at,currency,due_sats,ledger_paid_sats,ledger_paid_fiat,provider_paid_sats,provider_state,outcome');
    expect(lines.find((l) => l.includes(bookingId))).toMatch(new RegExp(`,CHF,${due},${due + 10_000},\\d+\\.\\d\\d,${due + 10_000},\\w+,match$`));
    await adminView.getByRole('status').getByText('Die CSV-Datei ist heruntergeladen.').waitFor();
    await adminView.context().close();

    // A refund BTCPay pays out (a pull payment; money-cases.test.ts walks that state through the API and
    // the simulator): the patient claims it at its link, with no destination to give. The booking's
    // answer is rewritten here to that state, as this platform runs Swiss Bitcoin Pay only.
    const claimLink = 'https://btcpay.example.com/pull-payments/3Yd8cX1vTqLm';
    await page.route(`**/v1/appointments/${bookingId}`, async (route) => {
      const answer = await route.fetch();
      const body = await answer.json();
      await route.fulfill({ response: answer, json: { ...body, refund: { ...body.refund, status: 'sent', destination: null, destinationKind: null, claimLink } } });
    });
    await page.reload();
    const claim = refund.getByRole('link', { name: 'Claim your 10,000 sats refund' });
    await claim.waitFor({ timeout: 15_000 });
    expect(await claim.getAttribute('href')).toBe(claimLink);
    expect(await refund.getByLabel(/^Where should we send it/).count()).toBe(0);
    await expectAccessible(page, 'refund to claim at the provider');
    await page.unroute(`**/v1/appointments/${bookingId}`);
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('a professional signs up, sets profile, schedule and time off; an admin verifies them; they see the booking made with them, with the patient\'s name, in English and in German', async () => {
    const proContext = await browser!.newContext({ viewport: DESKTOP, timezoneId: 'Europe/Zurich', locale: 'en-GB' });
    const page = await proContext.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(platform!.gatewayUrl);
    await page.getByLabel('a health professional').check();
    await page.getByLabel('Your name').fill('Dr. Web Pro');
    const proEmail = `web-pro-${Date.now()}@example.ch`;
    await page.getByLabel('Email').fill(proEmail);
    await page.getByLabel('Password').fill('web-professional-password');
    await page.getByRole('button', { name: 'Sign up' }).click();
    await page.waitForURL(/\/pro$/);
    await page.getByRole('heading', { name: 'My practice', level: 1 }).waitFor();
    const professionalId = (await page.getByTestId('professional-id').textContent())!;

    const profile = page.getByRole('region', { name: 'My profile' });
    await profile.getByLabel('Specialty').selectOption('cardiology');
    await profile.getByLabel('Languages').fill('de, en');
    await profile.getByLabel('Country').selectOption('CH');
    await profile.getByLabel('City').fill('Basel');
    await profile.getByLabel('Latitude').fill('47.5596');
    await profile.getByLabel('Longitude').fill('7.5886');
    await profile.getByLabel('Price per consultation').fill('95.00');
    await profile.getByRole('button', { name: 'Save my profile' }).click();
    await profile.getByText(/listed once an administrator has verified it/).waitFor();

    // Two ranges: Monday morning and Wednesday afternoon, with a buffer.
    const schedule = page.getByRole('region', { name: 'Weekly schedule' });
    await schedule.getByRole('button', { name: 'Add hours' }).click();
    const second = schedule.getByRole('list', { name: 'Opening hours' }).getByRole('listitem').nth(1);
    await second.getByLabel('Day').selectOption('3');
    await second.getByLabel('From').fill('14:00');
    await second.getByLabel('To').fill('17:00');
    await schedule.getByLabel('Buffer between slots (minutes)').fill('10');
    await schedule.getByRole('button', { name: 'Save my schedule' }).click();
    const preview = schedule.getByText(/^Free slots patients see in the next 7 days: (\d+)$/);
    await preview.waitFor();
    const previewCount = async () => Number(/(\d+)$/.exec((await preview.textContent())!)![1]);
    const previewed = await previewCount();
    expect(previewed).toBeGreaterThan(0);

    // A date override: the day of the first free slot, closed; its slots go, and come back when the override is removed.
    const slotsOn = async (date: string) => {
      const { items } = (await (await fetch(new URL(`/v1/professionals/${professionalId}/slots`, platform!.gatewayUrl))).json()) as { items: Array<{ start: string }> };
      return items.filter((s) => zurichDate(s.start) === date).length;
    };
    const firstSlot = ((await (await fetch(new URL(`/v1/professionals/${professionalId}/slots`, platform!.gatewayUrl))).json()) as { items: Array<{ start: string }> }).items[0]!;
    const closedDate = zurichDate(firstSlot.start);
    const slotsThatDay = await slotsOn(closedDate);
    expect(slotsThatDay).toBeGreaterThan(0);
    const overrides = page.getByRole('region', { name: 'Date overrides' });
    await overrides.getByText('No date overrides: your weekly schedule applies.').waitFor();
    await overrides.getByLabel('Date', { exact: true }).fill(closedDate);
    await overrides.getByRole('button', { name: 'Close this date' }).click();
    const overrideList = overrides.getByRole('list', { name: 'My date overrides' }).getByRole('listitem');
    await overrideList.filter({ hasText: 'closed' }).waitFor();
    expect(await overrideList.count()).toBe(1);
    await overrides.getByText('Dates and hours in Europe/Zurich.').waitFor();
    await eventually(async () => (await slotsOn(closedDate)) === 0);
    await expectAccessible(page, 'date overrides (pro page)');
    // The schedule's preview, asked again, has lost that day's slots too.
    await schedule.getByRole('button', { name: 'Save my schedule' }).click();
    await eventually(async () => (await previewCount()) <= previewed - slotsThatDay);
    await overrideList.getByRole('button', { name: /^Remove / }).click();
    await overrides.getByText('No date overrides: your weekly schedule applies.').waitFor();
    await eventually(async () => (await slotsOn(closedDate)) > 0);

    const timeOff = page.getByRole('region', { name: 'Time off' });
    await timeOff.getByLabel('From').fill(`${dayFromNow(40)}T08:00`);
    await timeOff.getByLabel('To').fill(`${dayFromNow(41)}T18:00`);
    await timeOff.getByLabel('Reason (optional)').fill('Congress');
    await timeOff.getByRole('button', { name: 'Add time off' }).click();
    await timeOff.getByText(/Congress/).waitFor();
    await expectAccessible(page, 'professional (pro page)');

    // Not listed until verified.
    const search = () => fetch(new URL('/v1/professionals?specialty=cardiology&q=Basel', platform!.gatewayUrl)).then((r) => r.json() as Promise<{ items: Array<{ id: string }> }>);
    expect((await search()).items.map((p) => p.id)).not.toContain(professionalId);

    const adminView = await adminPage();
    // The queue lists them with what they declared; the admin verifies them there.
    const waiting = adminView.getByRole('list', { name: 'Professionals waiting for verification' }).getByRole('listitem').filter({ hasText: 'Dr. Web Pro' });
    await waiting.getByText(/Basel/).waitFor();
    await waiting.getByRole('button', { name: 'Verify' }).click();
    await adminView.getByText('Dr. Web Pro is verified and now listed.').waitFor();
    await expectAccessible(adminView, 'admin verification');
    await screenshot(adminView, 'admin-desktop');
    // The audit trail: the verification, filtered by its kind and the professional, once search's
    // entry has reached the chain (through Kafka).
    await adminView.getByRole('navigation', { name: 'Administration sections' }).getByRole('link', { name: 'Audit trail' }).click();
    await adminView.getByRole('heading', { name: 'Audit trail', level: 1 }).waitFor();
    await adminView.getByLabel('Kind').selectOption('professional.verified');
    await adminView.getByLabel('Subject id').fill(professionalId);
    const entries = adminView.getByRole('region', { name: 'Audit entries' });
    const audited = entries.getByRole('list', { name: 'Audit entries' }).getByRole('listitem');
    await eventually(async () => {
      await adminView.getByRole('button', { name: 'Show entries' }).click();
      await entries.getByText(/^No entry matches these filters\.$|^professional\.verified$/).first().waitFor();
      return (await audited.count()) === 1;
    }, 30_000);
    await audited.getByText(professionalId).waitFor();
    await audited.getByText('professional.verified', { exact: true }).waitFor();
    await expectAccessible(adminView, 'admin audit trail');
    // Its dates and its "more" (by cursor): the admin's 55 reads of the trail through the API (each
    // recorded as admin.audit_read, at once) and those of this page. A range from 1 January 2000 (in
    // Zurich: still 1999 in UTC, before what the API takes) to two days ago shows none of them
    // (everything here is from today); yesterday to today shows them, 50 then the rest.
    const adminApi = new ApiClient(platform!.gatewayUrl);
    const adminToken = ((await adminApi.expect(200, 'POST', '/v1/auth/login', admin)) as { accessToken: string }).accessToken;
    for (let i = 0; i < 55; i++) await adminApi.as(adminToken).expect(200, 'GET', '/v1/admin/audit?limit=1');
    const zurichDaysAgo = (days: number) => zurichDate(new Date(Date.now() - days * 86_400_000).toISOString());
    await adminView.getByLabel('Kind').selectOption('admin.audit_read');
    await adminView.getByLabel('Subject id').fill('');
    await adminView.getByLabel('From (date)').fill('2000-01-01');
    await adminView.getByLabel('To (date, included)').fill(zurichDaysAgo(2));
    await adminView.getByRole('button', { name: 'Show entries' }).click();
    await entries.getByText('No entry matches these filters.').waitFor();
    expect(await audited.count()).toBe(0);
    await adminView.getByLabel('From (date)').fill(zurichDaysAgo(1));
    await adminView.getByLabel('To (date, included)').fill(zurichDaysAgo(0));
    await adminView.getByRole('button', { name: 'Show entries' }).click();
    const more = entries.getByRole('button', { name: 'More entries' });
    await more.waitFor();
    expect(await audited.count()).toBe(50);
    expect(await entries.getByRole('heading', { name: 'admin.audit_read', exact: true }).count()).toBe(50);
    await more.click();
    await entries.getByText('No more entries.').waitFor();
    const seqs = (await audited.allTextContents()).map((text) => Number(/#(\d+)/.exec(text)![1]));
    expect(seqs.length).toBeGreaterThanOrEqual(55);
    expect(seqs.length).toBeLessThan(100);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => b - a)); // newest first, none twice across the pages
    expect(await entries.getByRole('heading', { name: 'admin.audit_read', exact: true }).count()).toBe(seqs.length);
    await adminView.context().close();
    await eventually(async () => (await search()).items.some((p) => p.id === professionalId));

    // A patient books with them (through the API); the professional sees it after a reload (still signed in).
    const api = new ApiClient(platform!.gatewayUrl);
    const patient = await api.expect(201, 'POST', '/v1/auth/register', { email: `web-pp-${Date.now()}@example.ch`, password: 'web-patient-password', role: 'patient', displayName: 'Booked Patient', consents: currentConsents() });
    const slots = await api.expect(200, 'GET', `/v1/professionals/${professionalId}/slots`);
    const booking = await api.as(patient.accessToken).expect(201, 'POST', '/v1/appointments', { professionalId, start: slots.items[0].start });
    await page.reload();
    const upcoming = page.getByRole('list', { name: 'Upcoming' }).getByRole('listitem');
    await upcoming.first().waitFor();
    expect(await upcoming.count()).toBe(1);
    expect(await upcoming.first().getByRole('link').getAttribute('href')).toBe(`/bookings/${booking.appointment.id}`);
    // After the reload the editors show what is saved (GET /v1/professionals/me, …/schedule, …/time-off).
    const city = page.getByRole('region', { name: 'My profile' }).getByLabel('City');
    await eventually(async () => (await city.inputValue()) === 'Basel');
    const savedRanges = page.getByRole('region', { name: 'Weekly schedule' }).getByRole('list', { name: 'Opening hours' }).getByRole('listitem');
    await savedRanges.nth(1).waitFor();
    expect(await savedRanges.count()).toBe(2);
    expect(await savedRanges.nth(1).getByLabel('From').inputValue()).toBe('14:00');
    expect(await page.getByRole('region', { name: 'Weekly schedule' }).getByLabel('Buffer between slots (minutes)').inputValue()).toBe('10');
    await page.getByRole('region', { name: 'Time off' }).getByText(/Congress/).waitFor();
    // The calendar names the patient, with the booking's status.
    await upcoming.first().getByText('Booked Patient · held until paid').waitFor();
    await screenshot(page, 'pro-desktop');

    // In German (the page's language selector): they move their practice to Tokyo's time zone, and
    // the calendar shows the booking at Tokyo's time (not the browser's), with the patient's name.
    await page.getByRole('combobox', { name: /^Language/ }).selectOption('de');
    await page.getByRole('heading', { name: 'Meine Praxis', level: 1 }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('de');
    const profileDe = page.getByRole('region', { name: 'Mein Profil' });
    await profileDe.getByLabel('Zeitzone').fill('Asia/Tokyo');
    await profileDe.getByRole('button', { name: 'Profil speichern' }).click();
    await profileDe.getByRole('status').getByText(/^Gespeichert\./).waitFor();
    const calendar = page.getByRole('region', { name: 'Meine Termine' });
    await calendar.getByText('Zeiten in Asia/Tokyo, bevorstehende zuerst.').waitFor();
    const upcomingDe = calendar.getByRole('list', { name: 'Bevorstehend' }).getByRole('listitem');
    await upcomingDe.first().getByText('Booked Patient · bis zur Zahlung reserviert').waitFor();
    const hourIn = (timeZone: string) => new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone }).format(new Date(booking.appointment.start));
    const when = (await upcomingDe.first().getByRole('link').textContent())!;
    expect([when.includes(hourIn('Asia/Tokyo')), when.includes(hourIn('Europe/Zurich'))]).toEqual([true, false]);
    expect(await upcomingDe.count()).toBe(1);
    await expectAccessible(page, 'calendar (pro page, de)');
    await screenshot(page, 'pro-calendar-desktop-de');

    // Sign out on all devices (My data, in German), after a confirmation: another device's session ends too.
    const otherDevice = await api.expect(200, 'POST', '/v1/auth/login', { email: proEmail, password: 'web-professional-password' });
    await api.as(otherDevice.accessToken).expect(200, 'GET', '/v1/me');
    await page.getByRole('link', { name: 'Meine Daten' }).click();
    await page.getByRole('heading', { name: 'Meine Daten', level: 1 }).waitFor();
    // Asked again if the confirmation does not show: on a loaded CI runner one click was seen to be
    // lost once (not reproduced since); a person would click again too.
    const confirmation = page.getByRole('alertdialog').getByText(/^Jedes bei Ihrem Konto angemeldete Gerät, auch dieses, wird abgemeldet/);
    await eventually(async () => {
      if (await confirmation.isVisible()) return true;
      await page.getByRole('button', { name: 'Auf allen Geräten abmelden' }).click();
      return confirmation.waitFor({ timeout: 5_000 }).then(() => true, () => false);
    }, 30_000);
    await expectAccessible(page, 'sign out on all devices (my data, de)');
    await page.getByRole('button', { name: 'Ja, überall abmelden' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('heading', { name: 'Konto erstellen' }).waitFor();
    expect(await page.getByTestId('signed-in').count()).toBe(0);
    expect((await api.as(otherDevice.accessToken).call('GET', '/v1/me')).body.error.code).toBe('TOKEN_REVOKED');
    expect((await api.call('POST', '/v1/auth/refresh', { refreshToken: otherDevice.refreshToken })).status).toBe(401);
    expect(problems).toEqual([]);
    await proContext.close();
  }, 120_000);

  it('an admin in German rejects an applicant with a reason, after a confirmation; the professional reads it, and saving asks for a new review', async () => {
    // The applicant, through the API: an account and a profile waiting for review.
    const api = new ApiClient(platform!.gatewayUrl);
    const password = 'web-professional-password';
    const email = `web-rejected-${Date.now()}@example.ch`;
    const applicant = await api.expect(201, 'POST', '/v1/auth/register', { email, password, role: 'professional', displayName: 'Dr. Web Abgelehnt', consents: currentConsents() });
    const declared = { specialties: ['dermatology'], languages: ['de'], country: 'CH', city: 'Luzern', latitude: 47.0502, longitude: 8.3093, price: { amount: '110.00', currency: 'CHF' }, consultationMinutes: 30, timeZone: 'Europe/Zurich' };
    await api.as(applicant.accessToken).expect(200, 'PUT', '/v1/professionals/me', declared);

    // The admin switches the page to German and rejects them from the queue: a reason, then a confirmation.
    const adminView = await adminPage();
    await adminView.getByLabel('Language').selectOption('de');
    await adminView.getByRole('heading', { name: 'Verwaltung', level: 1 }).waitFor();
    const waiting = adminView.getByRole('list', { name: 'Fachpersonen, die auf Prüfung warten' }).getByRole('listitem').filter({ hasText: 'Dr. Web Abgelehnt' });
    await waiting.getByRole('button', { name: 'Ablehnen' }).click();
    const reason = 'Das Diplom ist unleserlich. Bitte laden Sie eine lesbare Kopie hoch.';
    await waiting.getByLabel('Grund der Ablehnung (die Fachperson liest ihn)').fill(reason);
    await waiting.getByRole('button', { name: 'Mit diesem Grund ablehnen' }).click();
    await waiting.getByRole('alertdialog').getByText(/^Die Bewerbung von Dr\. Web Abgelehnt ablehnen\?/).waitFor();
    await expectAccessible(adminView, 'admin rejection confirmation (de)');
    await waiting.getByRole('button', { name: 'Ja, ablehnen' }).click();
    await adminView.getByText('Die Bewerbung von Dr. Web Abgelehnt ist abgelehnt. Die Fachperson sieht Ihren Grund.').waitFor();
    await eventually(async () => (await waiting.count()) === 0);
    await expectAccessible(adminView, 'admin rejected (de)');
    await adminView.context().close();

    // The professional signs in: their page shows the rejection, its reason and what to do.
    const proContext = await browser!.newContext({ viewport: MOBILE, timezoneId: 'Europe/Zurich', locale: 'en-GB' });
    const page = await proContext.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(String(err)));
    await page.goto(platform!.gatewayUrl);
    await page.getByRole('button', { name: 'I already have an account' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/pro$/);
    const profile = page.getByRole('region', { name: 'My profile' });
    const rejection = profile.getByRole('note', { name: 'An administrator did not accept your profile' });
    await rejection.getByText(reason).waitFor();
    await rejection.getByText('Change what is asked and save your profile: it then goes back to an administrator for a new review.').waitFor();
    await expectAccessible(page, 'rejected profile (pro page)');

    // Saving the profile asks for a new review: the notice goes, the admins' queue has them again.
    await profile.getByLabel('City').fill('Luzern-Stadt');
    await profile.getByRole('button', { name: 'Save my profile' }).click();
    await profile.getByText('Saved. Your profile goes back to an administrator for a new review.').waitFor();
    expect(await rejection.count()).toBe(0);
    const adminApi = api.as((await api.expect(200, 'POST', '/v1/auth/login', admin)).accessToken);
    const queue = await adminApi.expect(200, 'GET', '/v1/admin/professionals?status=pending&limit=100');
    expect(queue.items.find((i: { profile: { id: string } }) => i.profile.id === applicant.user.id)?.profile.review).toEqual({ state: 'pending', reason: null, at: null });
    expect(problems).toEqual([]);
    await proContext.close();
  }, 120_000);
});
