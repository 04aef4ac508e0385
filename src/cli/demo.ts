import { readFileSync } from 'node:fs';
import { SingleBar } from 'cli-progress';
import { getBackend, setBackend } from '../backend/backend.js';
import { trainCharLm } from '../tasks/char-lm.js';

export interface DemoOptions {
  steps: number;
  threads?: number;
  backend?: string;
}

/** `attune demo`: trains the character model on shipped Debian package synopses and prints the loss falling. */
export function runDemo(options: DemoOptions): void {
  if (options.backend) setBackend(options.backend);
  const backend = getBackend();
  if (options.threads) backend.setThreads(options.threads);
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
