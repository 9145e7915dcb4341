import { bech32, bech32m } from 'bech32';
import { bolt11AmountSats } from './bolt11';

/**
 * Where a patient wants a refund sent, checked before it is stored: a Lightning address
 * (LUD-16, user@domain), a BOLT11 payment request for exactly the sats owed on the platform's
 * network and not yet expired, or an on-chain segwit address (bech32 / bech32m, BIP 173 / 350) of
 * that network. Checksums are verified by the `bech32` library; nothing is fetched (a Lightning
 * address is resolved when the refund is paid).
 *
 * Legacy base58 addresses (1…, 3…, m…, n…, 2…) are refused with UNSUPPORTED_ADDRESS_TYPE: every
 * wallet in use today gives a segwit address, and it avoids a second checksum scheme.
 */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

export type RefundDestinationKind = 'lightning_address' | 'bolt11' | 'onchain';

export interface RefundDestination {
  kind: RefundDestinationKind;
  /** Normalised: lower case, no `lightning:` / `bitcoin:` scheme. */
  value: string;
}

export type RefundDestinationError =
  | 'INVALID_REFUND_DESTINATION'
  | 'WRONG_NETWORK'
  | 'UNSUPPORTED_ADDRESS_TYPE'
  | 'INVOICE_AMOUNT_MISMATCH'
  | 'INVOICE_EXPIRED';

/** BOLT11 currency prefixes. */
const BOLT11_PREFIX: Record<BitcoinNetwork, string> = { mainnet: 'bc', testnet: 'tb', signet: 'tbs', regtest: 'bcrt' };
/** Segwit address human-readable parts (signet shares testnet's). */
const ADDRESS_HRP: Record<BitcoinNetwork, string> = { mainnet: 'bc', testnet: 'tb', signet: 'tb', regtest: 'bcrt' };

/** Longest destination accepted; a BOLT11 with a long route hint list stays far below it. */
export const MAX_DESTINATION_LENGTH = 2048;
const BOLT11_LIMIT = MAX_DESTINATION_LENGTH;
/** BOLT11 default expiry when the request carries no `x` field. */
const DEFAULT_BOLT11_EXPIRY_S = 3600;

// LUD-16: the name is a-z0-9-_.+ ; the domain a DNS host name with at least one dot (or localhost).
const LIGHTNING_ADDRESS = /^([a-z0-9\-_.+]{1,64})@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}|localhost)$/;

export function parseRefundDestination(
  raw: string,
  ctx: { network: BitcoinNetwork; owedSats: bigint; now: Date },
): RefundDestination | RefundDestinationError {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_DESTINATION_LENGTH) return 'INVALID_REFUND_DESTINATION';
  // Only printable ASCII (a NUL byte, a control character or any non-ASCII look-alike is refused).
  if (!/^[\x21-\x7e]+$/.test(raw.trim())) return 'INVALID_REFUND_DESTINATION';
  const value = raw.trim().toLowerCase();

  if (value.includes('@')) {
    return LIGHTNING_ADDRESS.test(value) ? { kind: 'lightning_address', value } : 'INVALID_REFUND_DESTINATION';
  }
  const lightning = value.replace(/^lightning:/, '');
  if (lightning.startsWith('ln')) return parseBolt11(lightning, ctx);
  return parseOnchain(value.replace(/^bitcoin:/, '').split('?')[0]!, ctx.network);
}

function parseBolt11(pr: string, ctx: { network: BitcoinNetwork; owedSats: bigint; now: Date }): RefundDestination | RefundDestinationError {
  const decoded = bech32.decodeUnsafe(pr, BOLT11_LIMIT);
  if (!decoded) return 'INVALID_REFUND_DESTINATION';
  const m = /^ln(bcrt|bc|tbs|tb)(\d*[munp]?)$/.exec(decoded.prefix);
  if (!m) return 'INVALID_REFUND_DESTINATION';
  if (m[1] !== BOLT11_PREFIX[ctx.network]) return 'WRONG_NETWORK';
  // An amountless request would let the payer pick the amount: the refund pays exactly what is owed.
  const sats = m[2] ? bolt11AmountSats(pr) : undefined;
  if (sats === undefined || BigInt(sats) !== ctx.owedSats) return 'INVOICE_AMOUNT_MISMATCH';
  const expiresAt = bolt11ExpiresAt(decoded.words);
  if (expiresAt === undefined) return 'INVALID_REFUND_DESTINATION';
  if (expiresAt <= ctx.now.getTime()) return 'INVOICE_EXPIRED';
  return { kind: 'bolt11', value: pr };
}

/** Timestamp (7 words) plus the `x` field (default one hour), in ms; undefined when malformed. */
function bolt11ExpiresAt(words: number[]): number | undefined {
  const SIGNATURE_WORDS = 104; // 65 bytes
  if (words.length < 7 + SIGNATURE_WORDS) return undefined;
  const timestamp = words.slice(0, 7).reduce((acc, w) => acc * 32 + w, 0);
  let expiry = DEFAULT_BOLT11_EXPIRY_S;
  const end = words.length - SIGNATURE_WORDS;
  for (let i = 7; i + 3 <= end; ) {
    const tag = words[i]!;
    const len = words[i + 1]! * 32 + words[i + 2]!;
    if (i + 3 + len > end) return undefined;
    if (tag === 6) expiry = words.slice(i + 3, i + 3 + len).reduce((acc, w) => acc * 32 + w, 0);
    i += 3 + len;
  }
  return (timestamp + expiry) * 1000;
}

function parseOnchain(address: string, network: BitcoinNetwork): RefundDestination | RefundDestinationError {
  // Base58 (the input is lower-cased already, so any letter): refused, see the header.
  if (/^[123mn][1-9a-z]{25,39}$/.test(address)) return 'UNSUPPORTED_ADDRESS_TYPE';
  // BIP 350: witness version 0 uses bech32, versions 1..16 bech32m; 90 characters at most.
  const v0 = bech32.decodeUnsafe(address, 90);
  const v1 = v0 ? undefined : bech32m.decodeUnsafe(address, 90);
  const decoded = v0 ?? v1;
  if (!decoded || decoded.words.length === 0) return 'INVALID_REFUND_DESTINATION';
  if (!['bc', 'tb', 'bcrt'].includes(decoded.prefix)) return 'INVALID_REFUND_DESTINATION';
  const version = decoded.words[0]!;
  const program = bech32.fromWordsUnsafe(decoded.words.slice(1));
  if (!program || version > 16 || program.length < 2 || program.length > 40) return 'INVALID_REFUND_DESTINATION';
  if (version === 0 ? !v0 || (program.length !== 20 && program.length !== 32) : !v1) return 'INVALID_REFUND_DESTINATION';
  if (decoded.prefix !== ADDRESS_HRP[network]) return 'WRONG_NETWORK';
  return { kind: 'onchain', value: address };
}

/** The network an invoice was paid on, read from its BOLT11 prefix (a refund goes back on it). */
export function networkOfPaymentRequest(paymentRequest: string): BitcoinNetwork | undefined {
  const m = /^(?:lightning:)?ln(bcrt|bc|tbs|tb)/.exec(paymentRequest.trim().toLowerCase());
  const byPrefix: Record<string, BitcoinNetwork> = { bc: 'mainnet', tb: 'testnet', tbs: 'signet', bcrt: 'regtest' };
  return m ? byPrefix[m[1]!] : undefined;
}
