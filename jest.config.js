/** Jest runs TypeScript through SWC (no per-file type check: `tsc --noEmit` does that once in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Two cores: keep parallelism light.
  maxWorkers: 2,
};
