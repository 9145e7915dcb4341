/**
 * The amount a BOLT11 payment request asks for, read from its human-readable part
 * (`ln` + network + amount + multiplier), e.g. `lnbc250u1…` = 250 µBTC = 25 000 sat.
 * Undefined for an amountless request or something that is not a BOLT11 string.
 */
export function bolt11AmountSats(paymentRequest: string): number | undefined {
  const pr = paymentRequest.trim().toLowerCase().replace(/^lightning:/, '');
  const separator = pr.lastIndexOf('1');
  if (separator < 0) return undefined;
  const m = /^ln(bcrt|bc|tbs|tb|sb)(\d+)([munp]?)$/.exec(pr.slice(0, separator));
  if (!m) return undefined;
  const digits = BigInt(m[2]!);
  // millisatoshis per unit of the multiplier (1 BTC = 1e11 msat)
  const msatPerUnit: Record<string, bigint> = { '': 100_000_000_000n, m: 100_000_000n, u: 100_000n, n: 100n };
  let msat: bigint;
  if (m[3] === 'p') {
    if (digits % 10n !== 0n) return undefined; // BOLT11: a pico amount must be a whole msat
    msat = digits / 10n;
  } else {
    msat = digits * msatPerUnit[m[3]!]!;
  }
  // A request for a fraction of a satoshi is paid with the next whole one.
  return Number((msat + 999n) / 1000n);
}
