import nodemailer from 'nodemailer';
import { createMailCatcher, type MailCatcher } from './mail-catcher';

describe('mail catcher (SMTP in, HTTP out)', () => {
  let catcher: MailCatcher;
  let smtpUrl: string;
  let httpUrl: string;

  beforeAll(async () => {
    catcher = createMailCatcher();
    ({ smtpUrl, httpUrl } = await catcher.listen());
  });
  afterAll(async () => {
    await catcher.close();
  });

  it('keeps what an SMTP client sends and serves it over HTTP, newest first, by recipient, by id', async () => {
    const transport = nodemailer.createTransport(smtpUrl);
    await transport.sendMail({ from: 'CryptoCare <no-reply@cryptocare.ch>', to: 'Anna@Example.ch', subject: 'First', text: 'hello anna' });
    await transport.sendMail({ from: 'no-reply@cryptocare.ch', to: 'bob@example.ch', subject: 'Second', text: 'hello bob' });
    transport.close();

    const all = (await (await fetch(`${httpUrl}/messages`)).json()) as { items: Array<{ id: string; subject: string; to: string[]; from: string }> };
    expect(all.items.map((m) => m.subject)).toEqual(['Second', 'First']);
    const anna = (await (await fetch(`${httpUrl}/messages?to=anna@example.ch`)).json()) as { items: Array<{ id: string }> };
    expect(anna.items).toHaveLength(1);
    const one = await (await fetch(`${httpUrl}/messages/${anna.items[0]!.id}`)).json();
    expect(one).toMatchObject({ from: 'no-reply@cryptocare.ch', to: ['anna@example.ch'], subject: 'First', text: expect.stringContaining('hello anna') });
    expect((await fetch(`${httpUrl}/messages/no-such-id`)).status).toBe(404);
    await expect(catcher.waitFor('bob@example.ch', (m) => m.subject === 'Second')).resolves.toMatchObject({ text: expect.stringContaining('hello bob') });

    expect((await fetch(`${httpUrl}/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(((await (await fetch(`${httpUrl}/messages`)).json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('waitFor resolves on a message that arrives later, and times out otherwise', async () => {
    const waiting = catcher.waitFor('late@example.ch');
    const transport = nodemailer.createTransport(smtpUrl);
    await transport.sendMail({ from: 'a@b.ch', to: 'late@example.ch', subject: 'Late', text: 'x' });
    transport.close();
    await expect(waiting).resolves.toMatchObject({ subject: 'Late' });
    await expect(catcher.waitFor('never@example.ch', undefined, 200)).rejects.toThrow(/no matching message/);
  });
});
