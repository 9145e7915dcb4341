// One jest run for the whole monorepo: unit tests beside the code (*.test.ts) and integration tests
// in test/ folders. TypeScript is transformed by SWC (fast, no type check: `make typecheck` does that).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/deploy', '<rootDir>/bench'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.(t|j)sx?$|\\.mjs$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  // A few dependencies ship only ES modules (jose since 6, typebox 1 as .mjs); Node loads them
  // (require(esm)) but jest's module system does not without --experimental-vm-modules, so SWC
  // compiles them for the tests.
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie|jose|typebox)/)'],
  globalSetup: '<rootDir>/libs/testing/src/jest-global-setup.ts',
  testTimeout: 60000,
  // Test files run in worker processes (a native crash then fails one file, visibly, not the run).
  maxWorkers: 2,
  // The slowest files first, so both workers end together (jest.sequencer.js).
  testSequencer: '<rootDir>/jest.sequencer.js',
};
