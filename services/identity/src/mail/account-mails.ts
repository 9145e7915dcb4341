// The text of the mails identity sends. Links go to the web client (PUBLIC_BASE_URL), which posts
// the token to the API; the token is in the fragment so it never reaches a server log or a Referer.
import type { MailKind } from '../store/account-mail';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export function accountMail(kind: MailKind, input: { to: string; displayName: string; token: string; publicBaseUrl: string }): OutgoingMail {
  const base = input.publicBaseUrl.replace(/\/+$/, '');
  const hello = `Hello ${input.displayName.replace(/[\r\n]+/g, ' ')},`;
  if (kind === 'verify_email') {
    const link = `${base}/#/verify-email?token=${input.token}`;
    return {
      to: input.to,
      subject: 'Confirm your email address for CryptoCare',
      text: `${hello}\n\nplease confirm your email address by opening this link (valid 24 hours):\n\n${link}\n\nVerification token: ${input.token}\n\nIf you did not create a CryptoCare account, ignore this message.\n`,
    };
  }
  const link = `${base}/#/reset-password?token=${input.token}`;
  return {
    to: input.to,
    subject: 'Reset your CryptoCare password',
    text: `${hello}\n\nsomeone (hopefully you) asked to reset your password. Choose a new one here (valid 30 minutes, once):\n\n${link}\n\nReset token: ${input.token}\n\nSetting a new password signs you out everywhere. If you did not ask for this, ignore this message: your password stays as it is.\n`,
  };
}

/** The token a mail carries (tests and the demo read it from the mail catcher). */
export const tokenInMail = (text: string) => /token: ([A-Za-z0-9_-]{43})/.exec(text)?.[1];
