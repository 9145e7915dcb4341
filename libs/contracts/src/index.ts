// The gRPC and event contracts, generated from proto/ by `make gen` (ts-proto). Only this file is
// written by hand: it names the generated modules and maps event types to their messages.
export * as common from './gen/cryptocare/common/v1/common';
export * as identity from './gen/cryptocare/identity/v1/identity';
export * as search from './gen/cryptocare/search/v1/search';
export * as appointment from './gen/cryptocare/appointment/v1/appointment';
export * as payment from './gen/cryptocare/payment/v1/payment';
export * as video from './gen/cryptocare/video/v1/video';
export * as events from './events';
export { consumedTopics, consumerGroups, type ConsumerGroups, type Topic } from './consumers';
export { auditEntryProblem, auditKinds, isAuditKind, type AuditFields, type AuditKind, type AuditKindName } from './audit';
