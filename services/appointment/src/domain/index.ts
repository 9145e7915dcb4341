// The appointment domain: pure rules, no I/O.
export * from './errors';
export * from './schedule';
export * from './slots';
export * from './date-overrides';
export * from './booking';
