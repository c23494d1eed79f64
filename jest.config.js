/** Jest runs the TypeScript sources directly; `npm test` type-checks them first with `tsc -b`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
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
