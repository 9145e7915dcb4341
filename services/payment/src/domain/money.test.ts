import { btcToSats, parsePrice, satsToBtc } from './money';
import { paymentUri } from './payment-uri';
import { bolt11AmountSats } from './bolt11';

describe('prices', () => {
  it('accepts CHF and EUR decimals and normalises them to two decimals', () => {
    expect(parsePrice('120', 'CHF')).toEqual({ amount: '120.00', currency: 'CHF' });
    expect(parsePrice('120.5', 'EUR')).toEqual({ amount: '120.50', currency: 'EUR' });
    expect(parsePrice('0.05', 'CHF')).toEqual({ amount: '0.05', currency: 'CHF' });
    expect(parsePrice('007.10', 'CHF')).toEqual({ amount: '7.10', currency: 'CHF' });
  });

  it('refuses other currencies, zero, negatives, more than 2 decimals, exponents and overflow', () => {
    expect(parsePrice('120.00', 'USD')).toBe('INVALID_CURRENCY');
    expect(parsePrice('120.00', '')).toBe('INVALID_CURRENCY');
    for (const bad of ['', '0', '0.00', '-1', '1.234', '1e3', '12,50', ' ', '123456789.00', 'NaN']) {
      expect(parsePrice(bad, 'CHF')).toBe('INVALID_PRICE');
    }
  });
});

describe('bitcoin amounts', () => {
  it('converts satoshis to BTC with 8 decimals and back, exactly', () => {
    expect(satsToBtc(120_000)).toBe('0.00120000');
    expect(satsToBtc(1)).toBe('0.00000001');
    expect(satsToBtc(2_100_000_000_000_000n)).toBe('21000000.00000000');
    expect(btcToSats('0.00025500')).toBe(25_500);
    expect(btcToSats('1')).toBe(100_000_000);
    expect(btcToSats('0.000000011')).toBe(2);
    expect(() => btcToSats('abc')).toThrow(RangeError);
  });

  it('reads the amount of a BOLT11 request from its human-readable part', () => {
    expect(bolt11AmountSats('lnbc250u1pjexample')).toBe(25_000);
    expect(bolt11AmountSats('LNBC1200U1PXYZ')).toBe(120_000);
    expect(bolt11AmountSats('lnbcrt2m1abc')).toBe(200_000);
    expect(bolt11AmountSats('lntb10n1abc')).toBe(1);
    expect(bolt11AmountSats('lnbc2500p1abc')).toBe(1); // 250 msat → next whole sat
    expect(bolt11AmountSats('lnbc1abcdef')).toBeUndefined(); // amountless
    expect(bolt11AmountSats('bitcoin:bc1q')).toBeUndefined();
  });
});

describe('payment URI (QR code)', () => {
  it('is BIP21 with the Lightning invoice when there is an on-chain address', () => {
    expect(paymentUri({ lightningInvoice: 'lnbc1200u1abc', onchainAddress: 'bc1qxyz', sats: 120_000 })).toBe(
      'bitcoin:bc1qxyz?amount=0.00120000&lightning=lnbc1200u1abc',
    );
  });

  it('is a lightning: URI otherwise', () => {
    expect(paymentUri({ lightningInvoice: 'lnbc1200u1abc', onchainAddress: null, sats: 120_000 })).toBe('lightning:lnbc1200u1abc');
  });
});
