// The JWTs that let a booking's two parties into its Jitsi room (jitsi-meet doc/tokens.md; 8x8 JaaS
// "The Jitsi JSON Web Token"). Both speak one format: header alg (+ kid for a public key), claims
// aud "jitsi", iss, sub, room, nbf, exp and context.user. What differs:
//  - self-hosted (prosody `authentication = "token"`): HS256 with the deployment's app_secret,
//    iss = its app_id, sub = the domain of the URL (rooms at https://<domain>/<room>);
//  - JaaS (8x8.vc): RS256 with the API key's private key, header kid = the key's id, iss "chat",
//    sub = the app id ("vpaas-magic-cookie-…", the tenant; rooms at https://8x8.vc/<app id>/<room>).
// Tokens are never stored: video mints one each time a party asks for the link (GetJoinLink).
import { createPrivateKey, createSecretKey, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export type JitsiSigning =
  | { kind: 'self-hosted'; appId: string; appSecret: string }
  | { kind: 'jaas'; appId: string; kid: string; privateKey: string };

/** A token lets its holder in from this long before the consultation's start… */
export const JITSI_TOKEN_OPENS_BEFORE_MS = 10 * 60_000;
/** …until this long after its booked end (a consultation that runs over is not cut off at once). */
export const JITSI_TOKEN_CLOSES_AFTER_MS = 30 * 60_000;

/** The shortest HS256 app secret accepted: 256 bits of key, as RFC 7518 asks for HS256. */
export const MIN_APP_SECRET_LENGTH = 32;

export interface JitsiSeat {
  room: string;
  /** The booking's professional: the room's moderator (it starts the room). Otherwise a guest. */
  moderator: boolean;
  /** Shown in the room and in Jitsi's reports: never a name or anything about health. */
  user: { id: string; name: string };
  startAt: Date;
  endAt: Date;
}

export class JitsiTokens {
  private readonly key: KeyObject;
  readonly baseUrl: string;

  constructor(
    private readonly signing: JitsiSigning,
    baseUrl: string,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    // Parsed once, here: a malformed key fails the start, not a patient's request.
    this.key = signing.kind === 'self-hosted' ? createSecretKey(Buffer.from(signing.appSecret, 'utf8')) : createPrivateKey(signing.privateKey);
    if (signing.kind === 'jaas' && this.key.asymmetricKeyType !== 'rsa') throw new Error('JITSI_PRIVATE_KEY must be an RSA private key (JaaS signs RS256)');
  }

  /** The room's address without a token (what video stores and announces). */
  roomUrl(room: string): string {
    return this.signing.kind === 'jaas' ? `${this.baseUrl}/${this.signing.appId}/${room}` : `${this.baseUrl}/${room}`;
  }

  /** sub: the tenant (JaaS app id) or the lowercase domain of a self-hosted deployment. */
  get subject(): string {
    return this.signing.kind === 'jaas' ? this.signing.appId : new URL(this.baseUrl).hostname.toLowerCase();
  }

  get issuer(): string {
    return this.signing.kind === 'jaas' ? 'chat' : this.signing.appId;
  }

  /** The token for one seat, valid from start − 10 min to end + 30 min. */
  async mint(seat: JitsiSeat, now = new Date()): Promise<string> {
    const notBefore = Math.floor((seat.startAt.getTime() - JITSI_TOKEN_OPENS_BEFORE_MS) / 1000);
    const expires = Math.ceil((seat.endAt.getTime() + JITSI_TOKEN_CLOSES_AFTER_MS) / 1000);
    const header = this.signing.kind === 'jaas' ? { alg: 'RS256', kid: this.signing.kid, typ: 'JWT' } : { alg: 'HS256', typ: 'JWT' };
    return new SignJWT({
      room: seat.room,
      context: {
        // Jitsi needs every user field to be a string. `moderator` is JaaS's; `affiliation` is what
        // a self-hosted prosody (token affiliation) reads to make an occupant owner (moderator).
        user: { id: seat.user.id, name: seat.user.name, moderator: seat.moderator ? 'true' : 'false', affiliation: seat.moderator ? 'owner' : 'member' },
      },
    })
      .setProtectedHeader(header)
      .setAudience('jitsi')
      .setIssuer(this.issuer)
      .setSubject(this.subject)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setNotBefore(notBefore)
      .setExpirationTime(expires)
      .sign(this.key);
  }

  /** The room's URL carrying the seat's token, as Jitsi Meet takes it (`?jwt=`). */
  async link(roomUrl: string, seat: JitsiSeat, now = new Date()): Promise<string> {
    const url = new URL(roomUrl);
    url.searchParams.set('jwt', await this.mint(seat, now));
    return url.toString();
  }
}
