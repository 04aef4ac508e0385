// Quality of the default `attune train image`: the full Fashion-MNIST set
// (Debian's dataset-fashion-mnist) for a wall-clock budget, then its test
// accuracy. The issue's target: ≥ 89% in 10 minutes on the 2-core machine,
// run with the machine to itself:
//   npm run bench -- train-vit-quality [--minutes 10] [--out dir] [--name found -- <attune train image flags>]
// Flags after `--` go to `attune train image` (another design: --dim 32 --heads 8 --head-dim 8 …).
// Prints the result and writes bench/results/vit-quality[-<name>].json.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineInfo } from './report.js';

const dashes = process.argv.indexOf('--');
const argv = dashes < 0 ? process.argv : process.argv.slice(0, dashes);
const design = dashes < 0 ? [] : process.argv.slice(dashes + 1);
const flag = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const minutes = flag('--minutes') ?? '10';
const out = flag('--out') ?? mkdtempSync(path.join(tmpdir(), 'attune-vit-quality-'));
const name = flag('--name');
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, '..', 'src', 'cli', 'main.ts');
const args = ['--import', 'tsx', cli, 'train', 'image', '--minutes', minutes, '--out', out, '--progress', 'lines', '--json', ...design];
console.log(
  `attune train image --minutes ${minutes} --out ${out} ${design.join(' ')} (${machineInfo().cpu}, load ${machineInfo().loadAverage.map((l) => l.toFixed(2))})`,
);
const started = performance.now();
const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
const wall = (performance.now() - started) / 1000;
if (r.status !== 0) throw new Error(`attune train image exited with ${r.status}; its errors are above`);
const result = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}');
const accuracy = result.testAccuracy as number;
console.log(
  `test accuracy ${(100 * accuracy).toFixed(2)}% after ${result.steps} updates (${(result.epochs as number)?.toFixed(1)} epochs, ${result.imagesPerSecond?.toFixed(0)} images/s), wall ${wall.toFixed(0)} s including data loading and the final test pass; full set: ${result.fullSet}`,
);
const goal = Number(minutes) === 10 ? ' (target ≥ 89% in 10 minutes: ' + (accuracy >= 0.89 ? 'met' : 'NOT met') + ')' : '';
console.log(`${goal}`);
mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', `vit-quality${name ? `-${name}` : ''}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ name: 'vit-quality', machine: machineInfo(), minutes: Number(minutes), design, wallSeconds: wall, result }, null, 2)}\n`,
);
console.log(`results in ${file}`);
