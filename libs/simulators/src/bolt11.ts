// BOLT 11 payment requests (https://github.com/lightning/bolts/blob/master/11-payment-encoding.md):
// encoder for the simulators, plus a small independent decoder (own bech32 checksum code, own field parser,
// signature recovery) used by tests and available to integration tests.
import { createHash, randomBytes } from 'node:crypto';
import { bech32 } from 'bech32';
import { getPublicKey, randomPrivateKey, recoverPublicKey, signRecoverable } from './secp256k1';

/** Currency prefixes of BOLT 11: mainnet, testnet, signet, regtest. */
export type Bolt11Network = 'bc' | 'tb' | 'tbs' | 'bcrt';
/** Segwit address human-readable parts: mainnet, testnet/signet, regtest. */
export type AddressHrp = 'bc' | 'tb' | 'bcrt';

const BECH32_LIMIT = 7089; // far above any invoice we produce; the BIP 173 90-char limit does not apply to BOLT 11

const TAG = { p: 1, s: 16, d: 13, h: 23, x: 6, c: 24, n: 19, f: 9, r: 3, '9': 5, m: 27 } as const;

const sha256 = (data: Uint8Array | string): Uint8Array => Uint8Array.from(createHash('sha256').update(data).digest());
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** Regroups a sequence of `from`-bit values into `to`-bit values (big-endian), zero-padding the tail if `pad`. */
function convertBits(data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (let i = 0; i < data.length; i++) {
    acc = (acc << from) | (data[i] ?? 0);
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad && bits > 0) out.push((acc << (to - bits)) & maxv);
  return out;
}

function intToWords(value: bigint | number, minWords = 1): number[] {
  let v = BigInt(value);
  const words: number[] = [];
  while (v > 0n) {
    words.unshift(Number(v & 31n));
    v >>= 5n;
  }
  while (words.length < minWords) words.unshift(0);
  return words;
}

function wordsToInt(words: ArrayLike<number>): bigint {
  let v = 0n;
  for (let i = 0; i < words.length; i++) v = (v << 5n) | BigInt(words[i] ?? 0);
  return v;
}

/** Human-readable amount suffix for a msat amount: the largest BOLT 11 multiplier that divides it exactly. */
export function formatHrpAmount(amountMsat: bigint): string {
  if (amountMsat <= 0n) throw new Error('bolt11: amount must be positive');
  const units: [string, bigint][] = [
    ['', 100_000_000_000n],
    ['m', 100_000_000n],
    ['u', 100_000n],
    ['n', 100n],
  ];
  for (const [suffix, msatPerUnit] of units) {
    if (amountMsat % msatPerUnit === 0n) return `${amountMsat / msatPerUnit}${suffix}`;
  }
  return `${amountMsat * 10n}p`; // 1 pico-BTC = 0.1 msat
}

function parseHrpAmount(amount: string): bigint {
  const m = /^(\d+)([munp]?)$/.exec(amount);
  if (!m || m[1] === undefined || (m[1].length > 1 && m[1].startsWith('0'))) throw new Error(`bolt11: bad amount "${amount}"`);
  const n = BigInt(m[1]);
  switch (m[2]) {
    case 'm':
      return n * 100_000_000n;
    case 'u':
      return n * 100_000n;
    case 'n':
      return n * 100n;
    case 'p':
      if (n % 10n !== 0n) throw new Error('bolt11: pico amount is not a whole msat');
      return n / 10n;
    default:
      return n * 100_000_000_000n;
  }
}

export interface EncodeBolt11Input {
  network?: Bolt11Network;
  /** Omit for an "any amount" invoice. */
  amountMsat?: bigint;
  /** Unix seconds; defaults to now. */
  timestamp?: number;
  paymentHash: Uint8Array;
  paymentSecret?: Uint8Array;
  /** Short description (`d`); if longer than 639 UTF-8 bytes its SHA-256 goes in `h` instead. */
  description?: string;
  descriptionHash?: Uint8Array;
  expirySeconds?: number;
  minFinalCltvExpiry?: number;
  /** Feature bits (`9` field). */
  features?: bigint;
  privateKey: Uint8Array;
}

function taggedField(tag: number, data: number[]): number[] {
  if (data.length > 1023) throw new Error('bolt11: tagged field too long');
  return [tag, data.length >> 5, data.length & 31, ...data];
}

/** Encodes and signs a BOLT 11 invoice. Fields are written in the order s, p, d|h, x, c, 9 (as the spec examples). */
export function encodeBolt11(input: EncodeBolt11Input): string {
  if (input.paymentHash.length !== 32) throw new Error('bolt11: payment hash must be 32 bytes');
  const hrp = `ln${input.network ?? 'bc'}${input.amountMsat === undefined ? '' : formatHrpAmount(input.amountMsat)}`;
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const words: number[] = intToWords(timestamp, 7);
  if (words.length !== 7) throw new Error('bolt11: timestamp out of range');
  if (input.paymentSecret) {
    if (input.paymentSecret.length !== 32) throw new Error('bolt11: payment secret must be 32 bytes');
    words.push(...taggedField(TAG.s, convertBits(input.paymentSecret, 8, 5, true)));
  }
  words.push(...taggedField(TAG.p, convertBits(input.paymentHash, 8, 5, true)));
  if (input.descriptionHash) {
    words.push(...taggedField(TAG.h, convertBits(input.descriptionHash, 8, 5, true)));
  } else {
    const description = Buffer.from(input.description ?? '', 'utf8');
    words.push(
      ...(description.length <= 639
        ? taggedField(TAG.d, convertBits(description, 8, 5, true))
        : taggedField(TAG.h, convertBits(sha256(description), 8, 5, true))),
    );
  }
  if (input.expirySeconds !== undefined) words.push(...taggedField(TAG.x, intToWords(input.expirySeconds)));
  if (input.minFinalCltvExpiry !== undefined) words.push(...taggedField(TAG.c, intToWords(input.minFinalCltvExpiry)));
  if (input.features !== undefined) words.push(...taggedField(TAG['9'], intToWords(input.features)));

  const preimage = Buffer.concat([Buffer.from(hrp, 'utf8'), Buffer.from(convertBits(words, 5, 8, true))]);
  const { signature, recoveryId } = signRecoverable(sha256(preimage), input.privateKey);
  words.push(...convertBits([...signature, recoveryId], 8, 5, true));
  return bech32.encode(hrp, words, BECH32_LIMIT);
}

/** var_onion_optin (bit 8) and payment_secret (bit 14), both "required", as current nodes set them. */
export const DEFAULT_FEATURES = (1n << 8n) | (1n << 14n);

export interface LightningInvoice {
  paymentRequest: string;
  paymentHash: Uint8Array;
  preimage: Uint8Array;
  paymentSecret: Uint8Array;
  payeePubkey: string;
  amountMsat: bigint;
  timestamp: number;
  expirySeconds: number;
}

export interface CreateLightningInvoiceInput {
  amountSats: number | bigint;
  description: string;
  expirySeconds: number;
  network?: Bolt11Network;
  /** The simulated node's key; a fresh random key when omitted. */
  privateKey?: Uint8Array;
  timestamp?: number;
}

/** A fresh invoice with a random preimage (payment hash = SHA-256 of it) and payment secret. */
export function createLightningInvoice(input: CreateLightningInvoiceInput): LightningInvoice {
  const privateKey = input.privateKey ?? randomPrivateKey();
  const preimage = Uint8Array.from(randomBytes(32));
  const paymentHash = sha256(preimage);
  const paymentSecret = Uint8Array.from(randomBytes(32));
  const amountMsat = BigInt(input.amountSats) * 1000n;
  const timestamp = input.timestamp ?? Math.floor(Date.now() / 1000);
  const paymentRequest = encodeBolt11({
    network: input.network ?? 'bc',
    amountMsat,
    timestamp,
    paymentHash,
    paymentSecret,
    description: input.description,
    expirySeconds: input.expirySeconds,
    minFinalCltvExpiry: 80,
    features: DEFAULT_FEATURES,
    privateKey,
  });
  return {
    paymentRequest,
    paymentHash,
    preimage,
    paymentSecret,
    payeePubkey: hex(getPublicKey(privateKey)),
    amountMsat,
    timestamp,
    expirySeconds: input.expirySeconds,
  };
}

// ---- decoding -------------------------------------------------------------------------------------------------

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i] ?? 0;
  }
  return chk;
}

function hrpExpand(hrp: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) >> 5);
  out.push(0);
  for (let i = 0; i < hrp.length; i++) out.push(hrp.charCodeAt(i) & 31);
  return out;
}

/** Splits a bech32 string and checks its checksum (bech32 constant 1, not bech32m). */
export function bech32Verify(str: string): { hrp: string; words: number[] } {
  if (str !== str.toLowerCase() && str !== str.toUpperCase()) throw new Error('bech32: mixed case');
  const s = str.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || sep + 7 > s.length) throw new Error('bech32: no separator or data too short');
  const hrp = s.slice(0, sep);
  const data: number[] = [];
  for (const ch of s.slice(sep + 1)) {
    const v = CHARSET.indexOf(ch);
    if (v < 0) throw new Error(`bech32: invalid character "${ch}"`);
    data.push(v);
  }
  if (polymod([...hrpExpand(hrp), ...data]) !== 1) throw new Error('bech32: bad checksum');
  return { hrp, words: data.slice(0, -6) };
}

export interface DecodedBolt11 {
  network: string;
  /** null for "any amount" invoices. */
  amountMsat: bigint | null;
  timestamp: number;
  paymentHash: string;
  paymentSecret?: string;
  description?: string;
  descriptionHash?: string;
  /** Seconds; BOLT 11 default 3600 when the field is absent. */
  expiry: number;
  minFinalCltvExpiry: number;
  features?: bigint;
  /** Compressed public key recovered from the signature (hex). */
  payeePubkey: string;
  /** Public key given explicitly in an `n` field, if any (hex). */
  explicitPayee?: string;
  signature: string;
  recoveryId: number;
  /** SHA-256 of hrp || data, the signed message (hex). */
  signedHash: string;
}

/** Decodes a BOLT 11 string, checking the bech32 checksum and recovering the payee key from the signature. */
export function decodeBolt11(paymentRequest: string): DecodedBolt11 {
  const { hrp, words } = bech32Verify(paymentRequest.replace(/^lightning:/i, ''));
  const m = /^ln(bcrt|tbs|bc|tb)(\d*[munp]?)$/.exec(hrp);
  if (!m || m[1] === undefined) throw new Error(`bolt11: unknown prefix "${hrp}"`);
  const amountMsat = m[2] ? parseHrpAmount(m[2]) : null;
  if (words.length < 7 + 104) throw new Error('bolt11: too short');
  const sigWords = words.slice(-104);
  const dataWords = words.slice(0, -104);
  const sigBytes = convertBits(sigWords, 5, 8, false);
  if (sigBytes.length !== 65) throw new Error('bolt11: bad signature length');
  const signature = Uint8Array.from(sigBytes.slice(0, 64));
  const recoveryId = sigBytes[64] ?? -1;
  const signedHash = sha256(
    Buffer.concat([Buffer.from(hrp, 'utf8'), Buffer.from(convertBits(dataWords, 5, 8, true))]),
  );
  const payeePubkey = hex(recoverPublicKey(signedHash, signature, recoveryId));

  const decoded: DecodedBolt11 = {
    network: m[1],
    amountMsat,
    timestamp: Number(wordsToInt(dataWords.slice(0, 7))),
    paymentHash: '',
    expiry: 3600,
    minFinalCltvExpiry: 18,
    payeePubkey,
    signature: hex(signature),
    recoveryId,
    signedHash: hex(signedHash),
  };
  let i = 7;
  while (i < dataWords.length) {
    const tag = dataWords[i] ?? 0;
    const len = ((dataWords[i + 1] ?? 0) << 5) | (dataWords[i + 2] ?? 0);
    const field = dataWords.slice(i + 3, i + 3 + len);
    if (field.length !== len) throw new Error('bolt11: truncated tagged field');
    i += 3 + len;
    const bytes = () => Uint8Array.from(convertBits(field, 5, 8, false));
    switch (tag) {
      case TAG.p:
        if (len === 52) decoded.paymentHash = hex(bytes()); // other lengths MUST be skipped
        break;
      case TAG.s:
        if (len === 52) decoded.paymentSecret = hex(bytes());
        break;
      case TAG.h:
        if (len === 52) decoded.descriptionHash = hex(bytes());
        break;
      case TAG.d:
        decoded.description = Buffer.from(bytes()).toString('utf8');
        break;
      case TAG.x:
        decoded.expiry = Number(wordsToInt(field));
        break;
      case TAG.c:
        decoded.minFinalCltvExpiry = Number(wordsToInt(field));
        break;
      case TAG['9']:
        decoded.features = wordsToInt(field);
        break;
      case TAG.n:
        if (len === 53) decoded.explicitPayee = hex(bytes());
        break;
      default:
        break; // unknown / unused fields are skipped, as the spec requires
    }
  }
  if (!decoded.paymentHash) throw new Error('bolt11: missing payment hash');
  if (decoded.explicitPayee && decoded.explicitPayee !== payeePubkey) throw new Error('bolt11: signature does not match n');
  return decoded;
}

// ---- on-chain addresses ---------------------------------------------------------------------------------------

/** A random-looking P2WPKH (witness v0, 20-byte program) bech32 address, e.g. bcrt1q... on regtest. */
export function randomSegwitAddress(hrp: AddressHrp = 'bcrt'): string {
  return bech32.encode(hrp, [0, ...bech32.toWords(randomBytes(20))]);
}
