// `attune autotune [--shapes ...]`: tunes the kernel settings of the given
// shapes ahead of use, writes them to the cache, and prints each entry's
// speedup over the defaults. Parses arguments and calls the library.

import type { Command } from 'commander';
import { autotune, autotuneConfig, configureAutotune, parseShape, type ShapeResult } from '../autotune/index.js';
import { STANDARD_SHAPES } from '../autotune/shapes.js';
import { setThreads } from '../backend/setup.js';
import { exitTwoOnUsageErrors, numberOption, usageError } from './options.js';

const ms = (s: number) => `${(s * 1e3).toFixed(s < 1e-3 ? 3 : 2)} ms`;

function printResult(r: ShapeResult): void {
  if (r.shape === 'grains') {
    for (const t of r.tuned) {
      const grains = Object.entries(t.settings).map(([k, v]) => `${k}=${v}`);
      console.log(`${'grains'.padEnd(48)} ${t.backend.padEnd(6)} thread grains in ${t.searchSeconds.toFixed(1)} s  ${grains.join(' ')}`);
    }
    return;
  }
  for (const t of r.tuned) {
    const settings = Object.entries(t.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    const speedup = t.defaultSeconds / t.seconds;
    console.log(
      `${r.shape.padEnd(48)} ${t.backend.padEnd(6)} ${t.kernel.padEnd(17)} defaults ${ms(t.defaultSeconds).padStart(10)}  tuned ${ms(t.seconds).padStart(10)}  ${speedup.toFixed(2)}×${t.accepted ? '' : ' (defaults kept)'}  ${t.evaluations} candidates in ${t.searchSeconds.toFixed(1)} s  ${settings}`,
    );
  }
  if (r.tuned.length > 1) console.log(`${''.padEnd(48)} runs on ${r.backend}`);
}

export function registerAutotuneCommand(program: Command): void {
  exitTwoOnUsageErrors(
    program
      .command('autotune')
      .description('tune kernel settings (tiles, cache blocks, threads, backend) for shapes ahead of use; writes the cache')
      .option(
        '--shapes <shape...>',
        `shapes such as attention:B=1,H=8,N=2048,D=64,causal or matmul:b=16,M=64,N=64,K=64, or grains (the non-GEMM kernels' thread grains) (default: grains and ${STANDARD_SHAPES.length} standard shapes)`,
      )
      .option('--cache <file>', 'the cache file (default: $ATTUNE_AUTOTUNE_CACHE or ~/.cache/attune/autotune.json)')
      .option('--threads <n>', 'threads the kernels use (the settings are tuned for this count)')
      .option('--budget <seconds>', 'search time per shape and backend', '20')
      .option('--repeats <n>', 'timed samples per candidate', '5')
      .option('--statistic <median|min>', 'how samples become a time: median, or min on a machine other work preempts', 'median')
      .option('--exhaustive', 'time every candidate instead of searching (slow)'),
  ).action(
    (opts: {
      shapes?: string[];
      cache?: string;
      threads?: string;
      budget: string;
      repeats: string;
      statistic: string;
      exhaustive?: boolean;
    }) => {
      const threads = numberOption('autotune', '--threads', opts.threads, { integer: true, min: 1 });
      const budget = numberOption('autotune', '--budget', opts.budget, { min: 0, exclusiveMin: true }) as number;
      const repeats = numberOption('autotune', '--repeats', opts.repeats, { integer: true, min: 1 }) as number;
      if (opts.statistic !== 'median' && opts.statistic !== 'min')
        usageError('autotune', `--statistic must be median or min, got '${opts.statistic}'`);
      const statistic: 'median' | 'min' = opts.statistic;
      const shapes = opts.shapes ?? ['grains', ...STANDARD_SHAPES];
      for (const shape of shapes) {
        if (shape === 'grains') continue;
        try {
          parseShape(shape);
        } catch (e) {
          usageError('autotune', (e as Error).message.replace(/^autotune: /, ''));
        }
      }
      configureAutotune({ mode: 'use-cache', ...(opts.cache ? { cachePath: opts.cache } : {}) });
      if (threads !== undefined) setThreads(threads);
      console.log(`attune autotune: cache ${autotuneConfig().cachePath}`);
      try {
        autotune(shapes, {
          strategy: opts.exhaustive ? 'exhaustive' : 'descent',
          timing: { warmup: 2, repeats, minSampleSeconds: 0.002 },
          search: { repeats, budgetSeconds: budget, maxPasses: 3, raceMargin: 1.25, statistic },
          onResult: printResult,
        });
      } catch (e) {
        usageError('autotune', (e as Error).message);
      }
    },
  );
}
