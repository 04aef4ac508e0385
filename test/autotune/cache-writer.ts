// A child process for the concurrent-writers test: merges `count` entries of
// its own into the cache file, one write each.
//   node --import tsx test/autotune/cache-writer.ts <cache path> <writer id> <count>

import { mergeIntoCache } from '../../src/autotune/cache.ts';

const [path, writer, count] = process.argv.slice(2);
for (let i = 0; i < Number(count); i++) {
  mergeIntoCache(path, [
    {
      backend: 'wasm',
      build: 'test-build',
      kernel: 'matmul',
      key: `writer ${writer} entry ${i}`,
      settings: { mc: 64, kc: 128, nc: 256, threads: 1, grain: i },
      seconds: 1e-3,
      defaultSeconds: 2e-3,
      evaluations: 1,
      searchSeconds: 0.01,
      tunedAt: new Date().toISOString(),
    },
  ]);
}
