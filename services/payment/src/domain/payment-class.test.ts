import { classifyPayment, type Classified, type PaymentAmounts } from './payment-class';

describe('classifyPayment', () => {
  const cases: Array<[string, PaymentAmounts, Partial<Classified>]> = [
    ['nothing yet', { state: 'open', dueSats: 1000 }, { kind: 'unpaid', confirms: false, refundSats: 0, paidSats: 0 }],
    ['in flight', { state: 'seen', dueSats: 1000 }, { kind: 'pending', confirms: false, refundSats: 0 }],
    ['paid, amount not reported = the full amount', { state: 'paid', dueSats: 1000 }, { kind: 'exact', confirms: true, paidSats: 1000, refundSats: 0 }],
    ['paid exactly', { state: 'paid', dueSats: 1000, paidSats: 1000 }, { kind: 'exact', confirms: true, refundSats: 0 }],
    ['paid over', { state: 'paid', dueSats: 1000, paidSats: 1250 }, { kind: 'over', confirms: true, paidSats: 1250, refundSats: 250 }],
    ['paid under (provider tolerance)', { state: 'paid', dueSats: 1000, paidSats: 990 }, { kind: 'under', confirms: false, refundSats: 0, shortfallSats: 10 }],
    ['partial, still payable', { state: 'partial', dueSats: 1000, paidSats: 400 }, { kind: 'under', confirms: false, refundSats: 0, shortfallSats: 600 }],
    ['partial that adds up', { state: 'partial', dueSats: 1000, paidSats: 1000 }, { kind: 'exact', confirms: true }],
    ['open with money in (topped up in part)', { state: 'open', dueSats: 1000, paidSats: 300 }, { kind: 'under', shortfallSats: 700 }],
    ['late in full', { state: 'paid', dueSats: 1000, paidSats: 1000, late: true }, { kind: 'late', confirms: true, refundSats: 0 }],
    ['late and over', { state: 'paid', dueSats: 1000, paidSats: 1100, late: true }, { kind: 'late', confirms: true, refundSats: 100 }],
    ['late and short', { state: 'paid', dueSats: 1000, paidSats: 600, late: true }, { kind: 'expired', confirms: false, refundSats: 600 }],
    ['expired unpaid', { state: 'expired', dueSats: 1000 }, { kind: 'expired', confirms: false, refundSats: 0 }],
    ['expired with a partial payment', { state: 'expired', dueSats: 1000, paidSats: 400 }, { kind: 'expired', refundSats: 400 }],
    ['invalid', { state: 'invalid', dueSats: 1000, paidSats: 1000 }, { kind: 'invalid', confirms: false, refundSats: 0 }],
    ['hostile numbers are read as none', { state: 'expired', dueSats: 1000, paidSats: Number.NaN }, { kind: 'expired', paidSats: 0, refundSats: 0 }],
    ['negative paid is none', { state: 'partial', dueSats: 1000, paidSats: -5 }, { kind: 'under', paidSats: 0, shortfallSats: 1000 }],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(classifyPayment(input)).toMatchObject(expected);
  });
});
