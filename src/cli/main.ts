#!/usr/bin/env node
// The attune command: parses arguments and calls the library.

import { Command } from 'commander';
import '../index.js';
import { runDemo } from './demo.js';
import { printInfo } from './info.js';

const program = new Command('attune').description('attention kernels, models and tuning for TypeScript');

program
  .command('demo')
  .description('train a tiny causal attention model on shipped text and print its loss falling')
  .option('--steps <n>', 'training steps', (v) => Number.parseInt(v, 10), 300)
  .option('--threads <n>', 'kernel threads (default: all cores)', (v) => Number.parseInt(v, 10))
  .option('--backend <name>', 'js or wasm')
  .action((opts: { steps: number; threads?: number; backend?: string }) => runDemo(opts));

program
  .command('info')
  .description('backend, kernel build, threads and heap')
  .action(() => printInfo());

program.parse();
