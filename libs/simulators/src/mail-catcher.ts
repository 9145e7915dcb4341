// A local mail catcher: an SMTP server (the `smtp-server` package) that keeps every message it
// receives in memory, parsed by `mailparser`, and a small HTTP API to read them:
//   GET    /messages            newest first; `?to=<address>` keeps the messages sent to it
//   GET    /messages/:id        one message (from, to, subject, text, html, receivedAt)
//   DELETE /messages            forgets every message
// `make dev` and the test platforms point identity's SMTP_URL at it; nothing leaves the machine.
import { randomUUID } from 'node:crypto';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import { createServer, type SimulatorServer } from './server';

export interface CaughtMail {
  id: string;
  from: string;
  /** Envelope recipients, lower-cased. */
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  receivedAt: string;
}

export interface MailCatcher {
  /** Starts both servers (port 0: any free one); resolves to the SMTP URL and the HTTP API's base URL. */
  listen(ports?: { smtp?: number; http?: number }, host?: string): Promise<{ smtpUrl: string; httpUrl: string }>;
  close(): Promise<void>;
  /** Messages received, newest first, optionally only those to one address. */
  messages(to?: string): CaughtMail[];
  /** Resolves with the first message (newest first) to `to` matching `match`, waiting up to `timeoutMs`. */
  waitFor(to: string, match?: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
  readonly http: SimulatorServer;
}

/** Messages beyond this many are dropped, oldest first (a long `make dev` session). */
const KEEP = 1000;
const MAX_MESSAGE_BYTES = 1024 * 1024;

const addresses = (value: AddressObject | AddressObject[] | undefined) =>
  (Array.isArray(value) ? value : value ? [value] : []).flatMap((a) => a.value.map((v) => v.address ?? '')).filter(Boolean);

export function createMailCatcher(opts: { logger?: boolean } = {}): MailCatcher {
  const stored: CaughtMail[] = [];
  const waiters = new Set<() => void>();

  const smtp = new SMTPServer({
    // Loopback only, no credentials and no TLS: a catcher, not a relay.
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    size: MAX_MESSAGE_BYTES,
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          stored.unshift({
            id: randomUUID(),
            from: addresses(parsed.from)[0] ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : ''),
            to: envelopeTo.length > 0 ? envelopeTo : addresses(parsed.to).map((a) => a.toLowerCase()),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            html: typeof parsed.html === 'string' ? parsed.html : null,
            receivedAt: new Date().toISOString(),
          });
          stored.splice(KEEP);
          for (const wake of [...waiters]) wake();
          callback();
        })
        .catch((err: Error) => callback(err));
    },
  });

  const http = createServer({ logger: opts.logger });
  const list = (to?: string) => (to ? stored.filter((m) => m.to.includes(to.trim().toLowerCase())) : [...stored]);
  http.app.get<{ Querystring: { to?: string } }>('/messages', async (req) => ({ items: list(typeof req.query.to === 'string' ? req.query.to : undefined) }));
  http.app.get<{ Params: { id: string } }>('/messages/:id', async (req, reply) => {
    const mail = stored.find((m) => m.id === req.params.id);
    return mail ?? reply.status(404).send({ error: { code: 'MESSAGE_NOT_FOUND', message: 'no such message' } });
  });
  http.app.delete('/messages', async (_req, reply) => {
    stored.splice(0);
    return reply.status(204).send();
  });

  let smtpUrl: string | undefined;
  return {
    http,
    async listen(ports = {}, host = '127.0.0.1') {
      await new Promise<void>((resolve, reject) => {
        smtp.once('error', reject);
        smtp.listen(ports.smtp ?? 0, host, () => {
          smtp.off('error', reject);
          resolve();
        });
      });
      // Errors of one client's connection must not end the process.
      smtp.on('error', () => undefined);
      const address = (smtp as unknown as { server: import('node:net').Server }).server.address();
      if (!address || typeof address === 'string') throw new Error('mail catcher: unexpected listen address');
      smtpUrl = `smtp://${host}:${address.port}`;
      const httpUrl = await http.listen(ports.http ?? 0, host);
      return { smtpUrl, httpUrl };
    },
    async close() {
      for (const wake of [...waiters]) wake();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await http.close();
    },
    messages: list,
    waitFor(to, match = () => true, timeoutMs = 15_000) {
      return new Promise<CaughtMail>((resolve, reject) => {
        const check = () => {
          const found = list(to).find(match);
          if (!found) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`mail catcher: no matching message to ${to} within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
