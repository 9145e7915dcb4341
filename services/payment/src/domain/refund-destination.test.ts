import { createLightningInvoice, encodeBolt11, randomSegwitAddress } from '@cryptocare/simulators';
import { bech32m } from 'bech32';
import { parseRefundDestination } from './refund-destination';

const now = new Date('2026-12-01T12:00:00Z');
const nowS = Math.floor(now.getTime() / 1000);
const regtest = { network: 'regtest' as const, owedSats: 2500n, now };
const invoice = (amountSats: number, opts: { network?: 'bc' | 'tb' | 'bcrt'; timestamp?: number; expirySeconds?: number } = {}) =>
  createLightningInvoice({ amountSats, description: 'refund', expirySeconds: opts.expirySeconds ?? 600, network: opts.network ?? 'bcrt', timestamp: opts.timestamp ?? nowS }).paymentRequest;

describe('parseRefundDestination', () => {
  it('accepts a Lightning address, normalised to lower case', () => {
    expect(parseRefundDestination('  Alice@Wallet.Example.com ', regtest)).toEqual({ kind: 'lightning_address', value: 'alice@wallet.example.com' });
  });

  it.each(['alice@', '@example.com', 'alice@example', 'al ice@example.com', 'alice@exa_mple.com', 'a@b@example.com', `${'a'.repeat(65)}@example.com`])(
    'refuses the malformed Lightning address %j',
    (raw) => expect(parseRefundDestination(raw, regtest)).toBe('INVALID_REFUND_DESTINATION'),
  );

  it('accepts a BOLT11 for exactly the sats owed on the network, with or without the lightning: scheme', () => {
    const pr = invoice(2500);
    expect(parseRefundDestination(pr, regtest)).toEqual({ kind: 'bolt11', value: pr });
    expect(parseRefundDestination(`LIGHTNING:${pr.toUpperCase()}`, regtest)).toEqual({ kind: 'bolt11', value: pr });
  });

  it('refuses a BOLT11 for another amount, an amountless one, one of another network, an expired one, a corrupted one', () => {
    expect(parseRefundDestination(invoice(2499), regtest)).toBe('INVOICE_AMOUNT_MISMATCH');
    expect(parseRefundDestination(invoice(2501), regtest)).toBe('INVOICE_AMOUNT_MISMATCH');
    expect(parseRefundDestination(invoice(2500, { network: 'bc' }), regtest)).toBe('WRONG_NETWORK');
    expect(parseRefundDestination(invoice(2500, { timestamp: nowS - 601 }), regtest)).toBe('INVOICE_EXPIRED');
    const pr = invoice(2500);
    const flipped = pr.slice(0, -1) + (pr.endsWith('q') ? 'p' : 'q');
    expect(parseRefundDestination(flipped, regtest)).toBe('INVALID_REFUND_DESTINATION');
    const privateKey = new Uint8Array(32).fill(1);
    const amountless = encodeBolt11({ network: 'bcrt', timestamp: nowS, paymentHash: new Uint8Array(32).fill(2), description: 'x', expirySeconds: 600, privateKey });
    expect(parseRefundDestination(amountless, regtest)).toBe('INVOICE_AMOUNT_MISMATCH');
  });

  it('accepts segwit v0 and taproot addresses of the network, also as a bitcoin: URI', () => {
    const v0 = randomSegwitAddress('bcrt');
    expect(parseRefundDestination(v0, regtest)).toEqual({ kind: 'onchain', value: v0 });
    expect(parseRefundDestination(`bitcoin:${v0}?amount=0.000025`, regtest)).toEqual({ kind: 'onchain', value: v0 });
    const taproot = bech32m.encode('bc', [1, ...bech32m.toWords(new Uint8Array(32).fill(7))]);
    expect(parseRefundDestination(taproot, { ...regtest, network: 'mainnet' })).toEqual({ kind: 'onchain', value: taproot });
  });

  it('refuses an address of another network, a legacy one, a bad checksum, a v0 address in bech32m', () => {
    expect(parseRefundDestination(randomSegwitAddress('bc'), regtest)).toBe('WRONG_NETWORK');
    expect(parseRefundDestination(randomSegwitAddress('tb'), { ...regtest, network: 'mainnet' })).toBe('WRONG_NETWORK');
    expect(parseRefundDestination('1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2', { ...regtest, network: 'mainnet' })).toBe('UNSUPPORTED_ADDRESS_TYPE');
    const v0 = randomSegwitAddress('bcrt');
    expect(parseRefundDestination(v0.slice(0, -1) + (v0.endsWith('q') ? 'p' : 'q'), regtest)).toBe('INVALID_REFUND_DESTINATION');
    const v0m = bech32m.encode('bcrt', [0, ...bech32m.toWords(new Uint8Array(20))]);
    expect(parseRefundDestination(v0m, regtest)).toBe('INVALID_REFUND_DESTINATION');
  });

  it.each(['', ' ', 'x'.repeat(5000), 'alice\u0000@example.com', 'bcrt1q\u0000', 'аlice@example.com', 'lnurl1dp68gurn8ghj7um9', 'not a destination', '12345'])(
    'refuses hostile input %#',
    (raw) => expect(parseRefundDestination(raw, regtest)).toBe('INVALID_REFUND_DESTINATION'),
  );
});
