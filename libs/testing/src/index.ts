export * from './infra';
export * from './sql-database';
