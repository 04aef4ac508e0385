// Training throughput of the small ViT (patch 7, width 64, depth 4, 4 heads,
// MLP 128, batch 128): attune (native where it builds, and wasm) at 1 and 2 threads, tfjs-wasm (layers
// API, one thread: its threaded build never loads in Node) and PyTorch on
// CPU (Debian's python3-torch with OpenBLAS) at 1 and 2 threads, each in its
// own child process. PyTorch runs at its best (DESIGN.md, "PyTorch as a
// peer"): OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its command alone,
// OPENBLAS_NUM_THREADS set to the thread count; the child reports the BLAS
// library it loaded and OpenBLAS's kernel.
//   npm run bench -- train-vit [--quick]     → table, targets, bench/results/train-vit.json

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listBackends } from '../src/index.js';
import { machineInfo } from './report.js';

const quick = process.argv.includes('--quick');
const here = path.dirname(fileURLToPath(import.meta.url));
const steps = quick ? 8 : 30;
const python = '/usr/bin/python3';

interface Row {
  system: string;
  threads: number;
  imagesPerSecond: number;
  peakRssMiB: number;
  [k: string]: unknown;
}

function child(label: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Row | null {
  const r = spawnSync(command, [...args], { env, encoding: 'utf8', timeout: 15 * 60_000 });
  const line = r.stdout?.trim().split('\n').at(-1);
  try {
    return JSON.parse(line ?? '') as Row;
  } catch {
    console.log(`${label}: failed (${r.error?.message ?? `exit ${r.status}`}) ${r.stderr?.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
}

const node = (file: string, ...args: string[]) => [process.execPath, ['--import', 'tsx', path.join(here, file), ...args]] as const;
const rows: Row[] = [];
const machine = machineInfo();
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
// attune on each backend that loads here: native (Node's default where it builds) and wasm
const backends = listBackends().includes('native') ? ['native', 'wasm'] : ['wasm'];
for (const backend of backends) {
  for (const threads of [1, 2]) {
    const [cmd, args] = node('train-vit-attune.ts', String(threads), String(steps), backend);
    const r = child(`attune ${backend} ${threads}T`, cmd, args);
    if (r) rows.push(r);
  }
}
{
  const [cmd, args] = node('train-vit-tfjs.ts', String(quick ? 3 : 8));
  const r = child('tfjs-wasm', cmd, args);
  if (r) rows.push(r);
}
if (existsSync(python)) {
  for (const threads of [1, 2]) {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const r = child(`pytorch ${threads}T`, python, [path.join(here, 'vit_torch.py'), String(threads), String(steps)], env);
    if (r) rows.push(r);
  }
} else console.log('pytorch: /usr/bin/python3 not found (apt-get install python3-torch libopenblas0-pthread)');

console.log('\nViT training throughput (batch 128, median step)');
console.log(`${'system'.padEnd(14)} ${'threads'.padStart(7)} ${'images/s'.padStart(10)} ${'peak RSS MiB'.padStart(13)}  heap`);
for (const r of rows) {
  const heap = r.system.startsWith('attune-')
    ? `tensors ${(r.tensorHeapPeakMiB as number).toFixed(0)} MiB, JS ${(r.jsHeapPeakMiB as number).toFixed(0)} MiB`
    : r.system === 'tfjs-wasm'
      ? `JS ${(r.jsHeapPeakMiB as number).toFixed(0)} MiB`
      : '-';
  console.log(
    `${r.system.padEnd(14)} ${String(r.threads).padStart(7)} ${r.imagesPerSecond.toFixed(0).padStart(10)} ${r.peakRssMiB.toFixed(0).padStart(13)}  ${heap}`,
  );
}
const torch = rows.find((r) => r.system === 'pytorch-cpu');
if (torch) {
  const blas = torch.blas as { libraries: string[]; openblasCore: string | null };
  console.log(
    `PyTorch ${torch.version}: BLAS ${blas.libraries.join(', ') || 'none mapped'}; OpenBLAS kernel ${blas.openblasCore ?? 'n/a'}`,
  );
}
const rate = (system: string, threads: number) =>
  rows.find((r) => r.system === system && r.threads === threads)?.imagesPerSecond ?? Number.NaN;
const best = `attune-${backends[0]}`;
const targets = [
  { label: `${best} 2T / tfjs-wasm (1T)`, value: rate(best, 2) / rate('tfjs-wasm', 1), goal: 10 },
  { label: `${best} 2T / PyTorch 2T`, value: rate(best, 2) / rate('pytorch-cpu', 2), goal: 1 },
  { label: `${best} 1T / PyTorch 1T`, value: rate(best, 1) / rate('pytorch-cpu', 1), goal: null },
  { label: 'attune-wasm 2T / PyTorch 2T', value: rate('attune-wasm', 2) / rate('pytorch-cpu', 2), goal: null },
];
console.log('\nTargets (ratios from this run)');
for (const t of targets) {
  console.log(
    `  ${t.label.padEnd(30)} ${t.value.toFixed(2)}×${t.goal ? `  (target ≥ ${t.goal}: ${t.value >= t.goal ? 'met' : 'NOT met'})` : ''}`,
  );
}
mkdirSync(path.join(here, 'results'), { recursive: true });
const file = path.join(here, 'results', 'train-vit.json');
writeFileSync(file, `${JSON.stringify({ name: 'train-vit', machine, steps, targets, rows }, null, 2)}\n`);
console.log(`results in ${file}`);
