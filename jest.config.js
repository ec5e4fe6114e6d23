/** Jest runs TypeScript through SWC (no per-file type check: `tsc --noEmit` does that once in `npm test`). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Removes the temp directories each test file made (test/temp.ts).
  setupFilesAfterEnv: ['<rootDir>/test/setup.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  // Two cores: keep parallelism light.
  maxWorkers: 2,
};
