// Minimal secp256k1 ECDSA with public-key recovery, enough to sign simulated BOLT11 invoices.
//
// Why not @noble/curves: its 2.x releases are ESM-only, and jest (on Node < 24.9) cannot require() ESM
// from CommonJS test files without transforming node_modules. This module only needs sign/recover, so it is
// written with BigInt and node:crypto (HMAC for RFC 6979 nonces). It is NOT constant-time: simulator use only.
import { createHmac, randomBytes } from 'node:crypto';

const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
export const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const N = CURVE_ORDER;
const GX = 0x79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798n;
const GY = 0x483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8n;

interface Jacobian {
  x: bigint;
  y: bigint;
  z: bigint; // z = 0 is the point at infinity
}
interface Affine {
  x: bigint;
  y: bigint;
}

const INFINITY: Jacobian = { x: 0n, y: 1n, z: 0n };
const G: Jacobian = { x: GX, y: GY, z: 1n };

function mod(a: bigint, m: bigint = P): bigint {
  const r = a % m;
  return r >= 0n ? r : r + m;
}

function invert(a: bigint, m: bigint = P): bigint {
  let [lo, hi] = [mod(a, m), m];
  if (lo === 0n) throw new Error('secp256k1: cannot invert 0');
  let [x0, x1] = [1n, 0n];
  while (hi !== 0n) {
    const q = lo / hi;
    [lo, hi] = [hi, lo - q * hi];
    [x0, x1] = [x1, x0 - q * x1];
  }
  return mod(x0, m);
}

function powMod(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n;
  let b = mod(base, m);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return result;
}

function double(p: Jacobian): Jacobian {
  if (p.z === 0n || p.y === 0n) return INFINITY;
  const a = mod(p.x * p.x);
  const b = mod(p.y * p.y);
  const c = mod(b * b);
  const d = mod(2n * (mod((p.x + b) * (p.x + b)) - a - c));
  const e = mod(3n * a);
  const f = mod(e * e);
  const x3 = mod(f - 2n * d);
  const y3 = mod(e * (d - x3) - 8n * c);
  const z3 = mod(2n * p.y * p.z);
  return { x: x3, y: y3, z: z3 };
}

function add(p: Jacobian, q: Jacobian): Jacobian {
  if (p.z === 0n) return q;
  if (q.z === 0n) return p;
  const z1z1 = mod(p.z * p.z);
  const z2z2 = mod(q.z * q.z);
  const u1 = mod(p.x * z2z2);
  const u2 = mod(q.x * z1z1);
  const s1 = mod(p.y * q.z * z2z2);
  const s2 = mod(q.y * p.z * z1z1);
  if (u1 === u2) return s1 === s2 ? double(p) : INFINITY;
  const h = mod(u2 - u1);
  const r = mod(s2 - s1);
  const h2 = mod(h * h);
  const h3 = mod(h2 * h);
  const u1h2 = mod(u1 * h2);
  const x3 = mod(r * r - h3 - 2n * u1h2);
  const y3 = mod(r * (u1h2 - x3) - s1 * h3);
  const z3 = mod(h * p.z * q.z);
  return { x: x3, y: y3, z: z3 };
}

function multiply(point: Jacobian, scalar: bigint): Jacobian {
  let result = INFINITY;
  let addend = point;
  let k = mod(scalar, N);
  while (k > 0n) {
    if (k & 1n) result = add(result, addend);
    addend = double(addend);
    k >>= 1n;
  }
  return result;
}

function toAffine(p: Jacobian): Affine {
  if (p.z === 0n) throw new Error('secp256k1: point at infinity');
  const zi = invert(p.z);
  const zi2 = mod(zi * zi);
  return { x: mod(p.x * zi2), y: mod(p.y * zi2 * zi) };
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

export function bigIntToBytes(value: bigint, length = 32): Uint8Array {
  const hex = value.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new Error('secp256k1: integer too large');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

function encodeCompressed(p: Affine): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = p.y & 1n ? 0x03 : 0x02;
  out.set(bigIntToBytes(p.x), 1);
  return out;
}

function liftX(x: bigint, odd: boolean): Affine {
  if (x <= 0n || x >= P) throw new Error('secp256k1: x out of range');
  const y2 = mod(x * x * x + 7n);
  let y = powMod(y2, (P + 1n) / 4n, P);
  if (mod(y * y) !== y2) throw new Error('secp256k1: x is not on the curve');
  if ((y & 1n) !== (odd ? 1n : 0n)) y = P - y;
  return { x, y };
}

/** Decompresses a 33-byte SEC1 public key into its affine coordinates (x, y as 32-byte big-endian). */
export function decompressPublicKey(publicKey: Uint8Array): { x: Uint8Array; y: Uint8Array } {
  if (publicKey.length !== 33 || (publicKey[0] !== 2 && publicKey[0] !== 3)) throw new Error('secp256k1: bad public key');
  const point = liftX(bytesToBigInt(publicKey.subarray(1)), publicKey[0] === 3);
  return { x: bigIntToBytes(point.x), y: bigIntToBytes(point.y) };
}

export function randomPrivateKey(): Uint8Array {
  for (;;) {
    const candidate = randomBytes(32);
    const d = bytesToBigInt(candidate);
    if (d > 0n && d < N) return Uint8Array.from(candidate);
  }
}

/** Compressed (33-byte) public key of a 32-byte private key. */
export function getPublicKey(privateKey: Uint8Array): Uint8Array {
  const d = bytesToBigInt(privateKey);
  if (privateKey.length !== 32 || d <= 0n || d >= N) throw new Error('secp256k1: bad private key');
  return encodeCompressed(toAffine(multiply(G, d)));
}

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac('sha256', key);
  for (const part of parts) h.update(part);
  return Uint8Array.from(h.digest());
}

export interface RecoverableSignature {
  /** 64 bytes: r (32) || s (32), s normalized to the lower half of the order. */
  signature: Uint8Array;
  /** 0..3 */
  recoveryId: number;
}

/** Deterministic (RFC 6979, HMAC-SHA256) ECDSA signature of a 32-byte message hash, with its recovery id. */
export function signRecoverable(msgHash: Uint8Array, privateKey: Uint8Array): RecoverableSignature {
  if (msgHash.length !== 32) throw new Error('secp256k1: message hash must be 32 bytes');
  const d = bytesToBigInt(privateKey);
  if (privateKey.length !== 32 || d <= 0n || d >= N) throw new Error('secp256k1: bad private key');
  const z = bytesToBigInt(msgHash);
  const x = bigIntToBytes(d);
  const h1 = bigIntToBytes(mod(z, N));
  let v: Uint8Array = new Uint8Array(32).fill(1);
  let k: Uint8Array = new Uint8Array(32);
  k = hmac(k, v, Uint8Array.of(0), x, h1);
  v = hmac(k, v);
  k = hmac(k, v, Uint8Array.of(1), x, h1);
  v = hmac(k, v);
  for (;;) {
    v = hmac(k, v);
    const nonce = bytesToBigInt(v);
    if (nonce > 0n && nonce < N) {
      const rPoint = toAffine(multiply(G, nonce));
      const r = mod(rPoint.x, N);
      let s = mod(invert(nonce, N) * (z + r * d), N);
      if (r !== 0n && s !== 0n) {
        let recoveryId = (rPoint.y & 1n ? 1 : 0) | (rPoint.x >= N ? 2 : 0);
        if (s > N >> 1n) {
          s = N - s;
          recoveryId ^= 1;
        }
        const signature = new Uint8Array(64);
        signature.set(bigIntToBytes(r), 0);
        signature.set(bigIntToBytes(s), 32);
        return { signature, recoveryId };
      }
    }
    k = hmac(k, v, Uint8Array.of(0));
    v = hmac(k, v);
  }
}

/** Recovers the compressed public key that made `signature` (r||s) over `msgHash`. */
export function recoverPublicKey(msgHash: Uint8Array, signature: Uint8Array, recoveryId: number): Uint8Array {
  if (msgHash.length !== 32 || signature.length !== 64) throw new Error('secp256k1: bad input lengths');
  if (!Number.isInteger(recoveryId) || recoveryId < 0 || recoveryId > 3) throw new Error('secp256k1: bad recovery id');
  const r = bytesToBigInt(signature.subarray(0, 32));
  const s = bytesToBigInt(signature.subarray(32, 64));
  if (r <= 0n || r >= N || s <= 0n || s >= N) throw new Error('secp256k1: signature out of range');
  const rx = recoveryId & 2 ? r + N : r;
  const rPoint = liftX(rx, (recoveryId & 1) === 1);
  const rInv = invert(r, N);
  const u1 = mod(-bytesToBigInt(msgHash) * rInv, N);
  const u2 = mod(s * rInv, N);
  const q = add(multiply(G, u1), multiply({ x: rPoint.x, y: rPoint.y, z: 1n }, u2));
  return encodeCompressed(toAffine(q));
}
