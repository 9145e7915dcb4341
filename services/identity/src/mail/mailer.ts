import nodemailer from 'nodemailer';
import type { OutgoingMail } from './account-mails';

/** Sends one mail; throws when the server refused it or could not be reached (the job retries). */
export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/** SMTP through nodemailer: `SMTP_URL` as nodemailer reads it (smtp://user:pass@host:587, smtps://… for TLS). */
export function smtpMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl, { from });
  // A hung server must not hold the worker: fail the attempt and retry later.
  Object.assign(transport.options, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  return {
    async send(mail) {
      await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text });
    },
    close: () => transport.close(),
  };
}
