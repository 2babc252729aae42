import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'service/test/**/*.test.ts'],
    // One process per file: ONNX Runtime has one environment per process, and engines in one
    // process must agree on its thread settings; separate processes keep files independent.
    pool: 'forks',
    // The concurrency test forces garbage collections while native calls hold input Buffers.
    execArgv: ['--expose-gc'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
