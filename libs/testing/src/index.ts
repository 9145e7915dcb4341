export * from './infra';
export * from './sql-database';
export * from './services';
export * from './platform';
export * from './api-client';
export * from './demo-directory';
export * from './otlp-receiver';
export * from './prometheus-text';
