export * from './infra';
export * from './sql-database';
export * from './services';
