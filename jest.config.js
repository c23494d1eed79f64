/** Jest runs the TypeScript sources directly; `npm test` type-checks them first with `tsc -b`. */
const stallSuites = require('./test/stallSuites.js').map((r) => r.source);

// `npm test` runs jest twice (test/runSuites.js): OMEGA_TEST_PHASE=stall selects the suites that
// bound event-loop stalls, =rest every other one; unset (`npx jest …`), every suite.
const phase = process.env.OMEGA_TEST_PHASE;
const selection =
  phase === 'stall'
    ? { testRegex: stallSuites }
    : {
        testMatch: ['**/*.test.ts'],
        ...(phase === 'rest' ? { testPathIgnorePatterns: ['/node_modules/', ...stallSuites] } : {}),
      };

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  ...selection,
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.base.json' }],
  },
  moduleNameMapper: {
    '^@omega-track/(core|providers|adapters)/internal$': '<rootDir>/$1/src/internal.ts',
    '^omega-track/internal$': '<rootDir>/cli/src/internal.ts',
    '^@omega-track/(core|providers|adapters)$': '<rootDir>/$1/src/index.ts',
    '^omega-track$': '<rootDir>/cli/src/index.ts',
  },
  testTimeout: 60000,
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/closingLineReporter.js'],
  testSequencer: '<rootDir>/test/testSequencer.js',
};
