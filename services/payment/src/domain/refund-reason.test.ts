import { refundReason } from './refund-reason';

describe('refundReason', () => {
  it('keeps no free text a person wrote: only who cancelled', () => {
    expect(refundReason('patient', 'my ex-husband Marc is ill')).toBe('cancelled by the patient');
    expect(refundReason('professional', 'Mrs Muster did not answer')).toBe('cancelled by the professional');
    expect(refundReason('', 'whatever someone typed')).toBe('booking cancelled');
  });

  it("keeps the platform's own reason", () => {
    expect(refundReason('system', 'professional left')).toBe('professional left');
    expect(refundReason('system', 'payment arrived too late: SLOT_TAKEN')).toBe('payment arrived too late: SLOT_TAKEN');
    expect(refundReason('system', '')).toBe('cancelled by the platform');
  });
});
