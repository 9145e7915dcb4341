export { createSwissBitcoinPaySimulator } from './swiss-bitcoin-pay';
export type {
  SwissBitcoinPaySimulator,
  SwissBitcoinPaySimulatorOptions,
  SbpInvoiceJson,
  SbpPaymentMethod,
  SbpStatus,
  SbpTransactionLimit,
} from './swiss-bitcoin-pay';
export { createZoomSimulator, normalizeStartTime, START_URL_TTL_MS } from './zoom';
export type { ZoomJoinRole, ZoomMeeting, ZoomSimulator, ZoomSimulatorOptions, ZoomUser } from './zoom';
export { createJitsiSimulator } from './jitsi';
export type { JitsiJoin, JitsiRefusal, JitsiRoom, JitsiSimulator, JitsiSimulatorOptions } from './jitsi';
export { createBtcpaySimulator } from './btcpay';
export type { BtcpayInvoiceStatus, BtcpayPaymentMethodId, BtcpayPayOptions, BtcpaySimulator, BtcpaySimulatorOptions, BtcpayWebhookEvent } from './btcpay';
export { createLightningInvoice, decodeBolt11, encodeBolt11, formatHrpAmount, randomSegwitAddress, bech32Verify } from './bolt11';
export type { AddressHrp, Bolt11Network, DecodedBolt11, EncodeBolt11Input, LightningInvoice } from './bolt11';
export { hmacSha256Hex } from './webhooks';
export type { DeliveryAttempt, WebhookDelivery, WebhookFaults, WebhookRequest } from './webhooks';
export { StateFile } from './state-file';
export type { SimulatorServer } from './server';
export { startWebhookReceiver } from './webhook-receiver';
export type { ReceivedWebhook, WebhookReceiver } from './webhook-receiver';
export { createMailCatcher } from './mail-catcher';
export type { CaughtMail, MailCatcher } from './mail-catcher';
