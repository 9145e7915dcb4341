import { randomBytes } from 'node:crypto';
import type { JitsiTokens } from './jitsi-tokens';
import type { MeetingProvider, MeetingRequest, ProviderMeeting } from './meeting-provider';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32 without padding, lower case (Jitsi room names are case-insensitive). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Jitsi Meet as the fallback: no API to call, so it cannot fail. The room name carries 128 random
 * bits and belongs to one booking (video's meetings table). With `tokens` (JWT: a self-hosted
 * deployment with token authentication, or 8x8 JaaS) nobody enters without a token for that room,
 * minted per party by GetJoinLink, so the URL stored and announced carries none. Without them the
 * room is open to whoever knows its name, and meet.jit.si does not start it until a moderator signs
 * in with an account of their own (docs/operations/video-hosts.md).
 */
export class JitsiMeetingProvider implements MeetingProvider {
  readonly name = 'jitsi' as const;
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    readonly tokens?: JitsiTokens,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async createMeeting(_request: MeetingRequest): Promise<ProviderMeeting> {
    const room = `CryptoCare-${base32(randomBytes(16))}`;
    const url = this.tokens ? this.tokens.roomUrl(room) : `${this.baseUrl}/${room}`;
    return { providerMeetingId: room, joinUrl: url, hostUrl: url, password: '' };
  }

  /** Jitsi rooms exist only while someone is in them: nothing to delete. */
  async deleteMeeting(_providerMeetingId: string): Promise<void> {}
}
