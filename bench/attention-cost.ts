// npm run bench -- attention-cost [--max-n 8192] [--threads 2]: what attention
// costs against the sequence length N (B = 1, H = 8, D = 64, fp32): time and
// peak extra heap of the fused op (forward, forward + backward) and of the
// unfused formulation that materialises the N × N scores (matmul, softmax,
// matmul). Writes bench/results/attention-cost.json and the guide's plots
// docs/images/attention-cost-time.svg and -memory.svg.

import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import * as at from '../src/index.ts';

const { values } = parseArgs({
  args: process.argv.slice(3),
  options: { 'max-n': { type: 'string', default: '8192' }, threads: { type: 'string', default: '2' } },
});
const maxN = Number(values['max-n']);
at.setThreads(Number(values.threads));
const H = 8;
const D = 64;
/** The unfused formulation needs 2·H·N² floats at once; past this it does not fit the 4 GiB wasm heap beside the rest. */
const UNFUSED_MAX_N = 8192;

interface Row {
  n: number;
  method: string;
  ms: number;
  peakMiB: number;
}

function measure(fn: () => void, minRuns = 3, minMs = 400): { ms: number; peakMiB: number } {
  at.tidy(fn); // warm-up (and V8 tier-up)
  const heap = at.getHeap();
  const times: number[] = [];
  let peak = 0;
  const start = performance.now();
  while (times.length < minRuns || (performance.now() - start < minMs && times.length < 50)) {
    const before = heap.stats.liveBytes;
    heap.resetPeak();
    const t0 = performance.now();
    at.tidy(fn);
    times.push(performance.now() - t0);
    peak = Math.max(peak, heap.stats.peakBytes - before);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], peakMiB: peak / 2 ** 20 };
}

const rows: Row[] = [];
for (let n = 256; n <= maxN; n *= 2) {
  const q = at.randn([1, H, n, D], { seed: 1 });
  const k = at.randn([1, H, n, D], { seed: 2 });
  const v = at.randn([1, H, n, D], { seed: 3 });
  const record = (method: string, fn: () => void) => {
    const r = measure(fn);
    rows.push({ n, method, ...r });
    console.log(`N=${String(n).padStart(5)}  ${method.padEnd(34)} ${r.ms.toFixed(2).padStart(9)} ms  peak +${r.peakMiB.toFixed(1)} MiB`);
  };
  record('fused forward', () => at.scaledDotProductAttention(q, k, v));
  record('fused forward, causal', () => at.scaledDotProductAttention(q, k, v, { causal: true }));
  const qg = q.setRequiresGrad();
  record('fused forward + backward', () => {
    const o = at.scaledDotProductAttention(qg, k, v);
    at.sum(o).backward();
  });
  qg.grad?.dispose();
  if (n <= UNFUSED_MAX_N / 2) {
    record('unfused (N × N scores) forward', () =>
      at.noGrad(() => at.matmul(at.softmax(at.mulScalar(at.matmul(q, k, { transposeB: true }), 1 / Math.sqrt(D)), -1), v)),
    );
  }
  for (const t of [q, k, v]) t.dispose();
}

mkdirSync(new URL('results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('results/attention-cost.json', import.meta.url),
  `${JSON.stringify({ date: new Date().toISOString(), backend: at.getBackend().name, threads: at.getThreads(), H, D, rows }, null, 1)}\n`,
);

async function svg(spec: TopLevelSpec): Promise<string> {
  return new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' }).toSVG();
}
const common = {
  data: { values: rows },
  width: 460,
  height: 280,
  mark: { type: 'line' as const, point: true },
} as const;
const x = { field: 'n', type: 'quantitative' as const, scale: { type: 'log' as const, base: 2 }, title: 'sequence length N' };
const color = {
  field: 'method',
  type: 'nominal' as const,
  title: null,
  legend: { orient: 'bottom' as const, columns: 2, labelLimit: 400 },
};
mkdirSync(new URL('../docs/images/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('../docs/images/attention-cost-time.svg', import.meta.url),
  await svg({
    ...common,
    title: `Attention time against N (H=${H}, D=${D}, ${at.getBackend().name} backend, ${at.getThreads()} threads)`,
    encoding: { x, y: { field: 'ms', type: 'quantitative', scale: { type: 'log' }, title: 'milliseconds (median)' }, color },
  }),
);
writeFileSync(
  new URL('../docs/images/attention-cost-memory.svg', import.meta.url),
  await svg({
    ...common,
    title: 'Peak extra memory against N',
    encoding: { x, y: { field: 'peakMiB', type: 'quantitative', scale: { type: 'log' }, title: 'MiB above the inputs' }, color },
  }),
);
console.log('wrote bench/results/attention-cost.json, docs/images/attention-cost-time.svg, docs/images/attention-cost-memory.svg');
