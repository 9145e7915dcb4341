import { satsToBtc } from './money';

/**
 * What the QR code encodes. With an on-chain address: a BIP21 URI carrying the Lightning invoice
 * as well (`lightning=`), so any wallet can pay it one way or the other; without: a `lightning:` URI.
 */
export function paymentUri(input: { lightningInvoice: string; onchainAddress?: string | null; sats: number | bigint }): string {
  if (input.onchainAddress) {
    return `bitcoin:${input.onchainAddress}?amount=${satsToBtc(input.sats)}&lightning=${input.lightningInvoice}`;
  }
  return `lightning:${input.lightningInvoice}`;
}
