// TEMPORARY: used only while the root jest.config.js's globalSetup file (libs/testing/src/jest-global-setup.ts)
// does not exist yet. Run with: npx jest -c libs/simulators/jest.config.js
/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  },
  testTimeout: 20000,
};
