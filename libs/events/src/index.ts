export * from './bus';
export * from './in-process-bus';
export * from './kafka-bus';
export * from './envelope';
export * from './outbox';
export * from './consumer';
export * from './sql';
export * from './service-host';
