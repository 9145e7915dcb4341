import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { bech32Verify, createLightningInvoice, decodeBolt11, encodeBolt11, formatHrpAmount, randomSegwitAddress } from './bolt11';

// Examples from BOLT 11 ("Examples" section): signed by the spec's test key, payee 03e7156a…
const SPEC_PRIVKEY = 'e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734';
const SPEC_PAYEE = '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad';
const SPEC_HASH = '0001020304050607080900010203040506070809000102030405060708090102';
const SPEC_COFFEE =
  'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh';
const SPEC_DONATION =
  'lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql';

/**
 * Independent check used on the simulator's invoices: bech32 checksum, hrp, and an ECDSA verification done by
 * OpenSSL (node:crypto) rather than by our secp256k1 module.
 */
function independentCheck(pr: string, publicKeyDer: Buffer): { hrp: string } {
  const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const sep = pr.lastIndexOf('1');
  const hrp = pr.slice(0, sep);
  const data = [...pr.slice(sep + 1)].map((c) => CHARSET.indexOf(c));
  expect(data.every((v) => v >= 0)).toBe(true);
  let chk = 1;
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  const values = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31), ...data];
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    gen.forEach((g, i) => {
      if ((top >>> i) & 1) chk ^= g;
    });
  }
  expect(chk).toBe(1); // valid bech32 checksum
  const words = data.slice(0, -6);
  const toBytes = (ws: number[], pad: boolean) => {
    let acc = 0;
    let bits = 0;
    const out: number[] = [];
    for (const w of ws) {
      acc = (acc << 5) | w;
      bits += 5;
      while (bits >= 8) {
        bits -= 8;
        out.push((acc >> bits) & 255);
      }
      acc &= (1 << bits) - 1;
    }
    if (pad && bits > 0) out.push((acc << (8 - bits)) & 255);
    return Buffer.from(out);
  };
  const sig = toBytes(words.slice(-104), false);
  const signedData = Buffer.concat([Buffer.from(hrp), toBytes(words.slice(0, -104), true)]);
  const key = createPublicKey({ key: publicKeyDer, format: 'der', type: 'spki' });
  expect(verify('sha256', signedData, { key, dsaEncoding: 'ieee-p1363' }, sig.subarray(0, 64))).toBe(true);
  return { hrp };
}

describe('bolt11', () => {
  it('reproduces the BOLT 11 spec "coffee" example exactly (RFC 6979 signature, field order, checksum)', () => {
    const pr = encodeBolt11({
      network: 'bc',
      amountMsat: 250_000_000n,
      timestamp: 1496314658,
      paymentHash: Buffer.from(SPEC_HASH, 'hex'),
      paymentSecret: Buffer.alloc(32, 0x11),
      description: '1 cup coffee',
      expirySeconds: 60,
      features: (1n << 8n) | (1n << 14n),
      privateKey: Buffer.from(SPEC_PRIVKEY, 'hex'),
    });
    expect(pr).toBe(SPEC_COFFEE);
  });

  it('decodes the spec examples and recovers the payee from the signature', () => {
    const coffee = decodeBolt11(SPEC_COFFEE);
    expect(coffee).toMatchObject({
      network: 'bc',
      amountMsat: 250_000_000n,
      timestamp: 1496314658,
      paymentHash: SPEC_HASH,
      paymentSecret: '11'.repeat(32),
      description: '1 cup coffee',
      expiry: 60,
      payeePubkey: SPEC_PAYEE,
    });
    const donation = decodeBolt11(SPEC_DONATION);
    expect(donation.amountMsat).toBeNull();
    expect(donation.description).toBe('Please consider supporting this project');
    expect(donation.payeePubkey).toBe(SPEC_PAYEE);
  });

  it('rejects a corrupted checksum', () => {
    const corrupted = SPEC_COFFEE.slice(0, 40) + (SPEC_COFFEE[40] === 'q' ? 'p' : 'q') + SPEC_COFFEE.slice(41);
    expect(() => bech32Verify(corrupted)).toThrow(/checksum/);
    expect(() => decodeBolt11(corrupted)).toThrow();
  });

  it('formats amounts with the largest exact multiplier', () => {
    expect(formatHrpAmount(250_000_000n)).toBe('2500u');
    expect(formatHrpAmount(25_000_000n)).toBe('250u');
    expect(formatHrpAmount(100_000_000n)).toBe('1m');
    expect(formatHrpAmount(100_000_000_000n)).toBe('1');
    expect(formatHrpAmount(1_000n)).toBe('10n');
    expect(formatHrpAmount(1n)).toBe('10p');
  });

  it('creates invoices that an independent verifier (OpenSSL) accepts', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
    const d = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
    const jwk = publicKey.export({ format: 'jwk' });
    const y = Buffer.from(jwk.y ?? '', 'base64url');
    const compressed = Buffer.concat([Buffer.from([(y[31] ?? 0) & 1 ? 3 : 2]), Buffer.from(jwk.x ?? '', 'base64url')]).toString('hex');

    const inv = createLightningInvoice({ amountSats: 12_345, description: 'Consultation Dr. Müller', expirySeconds: 600, privateKey: d });
    const { hrp } = independentCheck(inv.paymentRequest, publicKey.export({ format: 'der', type: 'spki' }));
    expect(hrp).toBe('lnbc123450n');

    const decoded = decodeBolt11(inv.paymentRequest);
    expect(decoded.amountMsat).toBe(12_345_000n);
    expect(decoded.description).toBe('Consultation Dr. Müller');
    expect(decoded.expiry).toBe(600);
    expect(decoded.payeePubkey).toBe(compressed);
    expect(decoded.paymentHash).toBe(createHash('sha256').update(inv.preimage).digest('hex'));
    expect(decoded.features).toBe((1n << 8n) | (1n << 14n));
  });

  it('makes regtest segwit addresses', () => {
    const addr = randomSegwitAddress('bcrt');
    expect(addr).toMatch(/^bcrt1q[02-9ac-hj-np-z]{38}$/);
    expect(bech32Verify(addr).hrp).toBe('bcrt');
  });
});
