/**
 * The reason a refund is recorded with. The ledger keeps it for as long as the accounting is kept,
 * also after the people involved erased their accounts, so it is never a person's free text (what
 * a patient or a professional typed when cancelling may name someone or describe their health):
 * only who cancelled, or the platform's own words when the platform cancelled.
 */
export function refundReason(cancelledBy: string, platformReason: string): string {
  switch (cancelledBy) {
    case 'patient':
      return 'cancelled by the patient';
    case 'professional':
      return 'cancelled by the professional';
    case 'system':
      return platformReason.slice(0, 200) || 'cancelled by the platform';
    default:
      return 'booking cancelled';
  }
}
