// `attune demo`: trains the character model on shipped Debian package
// synopses and prints the loss falling. Every option is checked before any
// work starts: a bad value is one line on stderr and exit code 2 (a usage
// error); a failure while running is one line and exit code 1.

import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { getBackend, listBackends, setBackend } from '../backend/backend.js';
import { setThreads } from '../backend/setup.js';
import { trainCharLm } from '../tasks/char-lm.js';

export interface DemoOptions {
  steps: number;
  threads?: number;
  backend?: string;
}

/** Parses a positive integer option value (no fractions, signs, units or trailing text). */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return Number(value);
}

/** Registers `attune demo` on the program. */
export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('train a tiny causal attention model on shipped text and print its loss falling')
    .addOption(new Option('--steps <n>', 'training steps (a positive integer)').argParser(positiveInteger).default(300))
    .addOption(new Option('--threads <n>', 'kernel threads (default: all cores)').argParser(positiveInteger))
    .addOption(new Option('--backend <name>', 'kernel backend').choices(listBackends()))
    .exitOverride((error) => {
      // commander has printed the one-line message; usage errors exit 2
      process.exit(error.exitCode === 0 ? 0 : 2);
    })
    .action((options: DemoOptions) => {
      try {
        runDemo(options);
      } catch (e) {
        console.error(`attune demo: ${(e as Error).message}`);
        process.exit(1);
      }
    });
}

/** Trains the demo model and prints its progress and result. */
export function runDemo(options: DemoOptions): void {
  if (options.backend) setBackend(options.backend);
  const backend = getBackend();
  if (options.threads) setThreads(options.threads);
  const text = readFileSync(new URL('../../data/demo/synopses.txt', import.meta.url), 'utf8');
  console.log(`attune demo: a one-block causal attention model learns Debian package synopses (${text.length} characters)`);
  console.log(`backend ${backend.name}, ${backend.threads} thread(s)`);
  const bar = new SingleBar({ format: 'training [{bar}] {value}/{total} steps | loss {loss} | ETA {eta}s', hideCursor: true });
  bar.start(options.steps, 0, { loss: '-' });
  const report: string[] = [];
  const every = Math.max(1, Math.floor(options.steps / 10));
  let window = 0;
  const started = performance.now();
  const result = trainCharLm(text, {
    steps: options.steps,
    onStep: (step, loss) => {
      window += loss;
      bar.update(step, { loss: loss.toFixed(3) });
      if (step % every === 0) {
        report.push(`  steps ${String(step - every + 1).padStart(4)}-${String(step).padEnd(4)} mean loss ${(window / every).toFixed(3)}`);
        window = 0;
      }
    },
  });
  bar.stop();
  for (const line of report) console.log(line);
  const seconds = (performance.now() - started) / 1000;
  const first = result.losses[0];
  const last = result.losses.slice(-every).reduce((s, v) => s + v, 0) / every;
  console.log(`${result.parameters} parameters, ${result.vocabulary.length} symbols, ${seconds.toFixed(1)} s`);
  console.log(`loss ${first.toFixed(3)} -> ${last.toFixed(3)} (uniform guess: ${Math.log(result.vocabulary.length).toFixed(3)})`);
}
