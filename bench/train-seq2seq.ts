// Training and decoding throughput of the translation model (3+3 layers,
// width 256, 4 heads, FFN 1024, 8,000-token shared vocabulary, 7.6M
// parameters — attune's default, src/tasks/seq2seq/model.ts).
//  - training: target tokens per second of one update (forward, backward,
//    clipping, AdamW) on a fixed batch of random ids, B = 64 pairs of 16
//    source and 16 target tokens (DDTP synopses average ~11 tokens a side);
//    attune (its default backend — native where the addon loads — and wasm)
//    and PyTorch on CPU (Debian's python3-torch, bench/
//    seq2seq_torch.py, the same model and batch) at 1 and 2 threads, each in
//    its own child process. PyTorch runs at its best (DESIGN.md, "PyTorch as
//    a peer"): OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset for its command
//    alone, OPENBLAS_NUM_THREADS set to the thread count; it reports the BLAS
//    library it loaded and OpenBLAS's kernel.
//  - decoding (attune's default backend, 2 threads): sentences per second, greedy and beam 4,
//    batch 1 and 32, 24 generated tokens per sentence (an untrained model
//    with </s> disabled, so every sentence has the same length), on the KV
//    cache; and the same without the cache, for the ratio.
//   npm run bench -- train-seq2seq [--quick]   → table, target, bench/results/train-seq2seq.json
//   node --import tsx bench/train-seq2seq.ts --child profile THREADS STEPS [BACKEND]   → time per kernel of a step

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/index.js';
import { noGrad } from '../src/autograd/tape.js';
import { getBackend, setBackend } from '../src/backend/backend.js';
import { collate } from '../src/data/batching.js';
import { AdamW } from '../src/optim/adamw.js';
import { clipGradNorm } from '../src/optim/clip.js';
import { parameterGroups } from '../src/optim/groups.js';
import { createSeq2SeqModel, seq2seqConfig, seq2seqLoss } from '../src/tasks/seq2seq/model.js';
import { beamSearch, greedySearch } from '../src/tasks/seq2seq/search.js';
import { TransformerStepDecoder } from '../src/tasks/seq2seq/step-decoder.js';
import { tidy } from '../src/tensor/scope.js';
import { machineInfo } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const VOCAB = 8000;
const [BATCH, SRC, TGT] = [64, 16, 16];
const python = '/usr/bin/python3';

function randomIds(n: number, length: number, seed: number): number[][] {
  let s = seed;
  return Array.from({ length: n }, () =>
    Array.from({ length }, () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return 3 + (s % (VOCAB - 3));
    }),
  );
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function peakRssMiB(): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return hwm ? Number(hwm[1]) / 1024 : Number.NaN;
}

/** Child: attune training steps. Source and target lengths are SRC-1/TGT-1 ids plus </s> / <s>. */
function childTrain(threads: number, steps: number): void {
  getBackend().setThreads(threads);
  const model = createSeq2SeqModel(seq2seqConfig(VOCAB), 0);
  const optimizer = new AdamW(parameterGroups(model, { weightDecay: 0.01 }), { lr: 1e-3, betas: [0.9, 0.98] });
  const src = randomIds(BATCH, SRC - 1, 1);
  const tgt = randomIds(BATCH, TGT - 1, 2);
  const batch = collate(
    src.map((s, i) => ({ source: s, target: tgt[i] })),
    { padId: 0, bosId: 1, eosId: 2 },
  );
  const step = () => {
    model.train();
    tidy(() => seq2seqLoss(model, batch, 0.1).backward());
    clipGradNorm(optimizer.params, 1);
    noGrad(() => optimizer.step());
    optimizer.zeroGrad();
  };
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    step();
    times.push((performance.now() - t0) / 1000);
  }
  const m = median(times);
  console.log(
    JSON.stringify({
      system: `attune-${getBackend().name}`,
      threads: getBackend().threads,
      tokensPerSecond: (BATCH * TGT) / m,
      medianStepSeconds: m,
      steps,
      parameters: model.numParameters(),
      peakRssMiB: peakRssMiB(),
    }),
  );
}

/** Child (`--child profile THREADS STEPS`): time per kernel of the training step, by wrapping the backend's kernels. */
function childProfile(threads: number, steps: number): void {
  getBackend().setThreads(threads);
  const kernels = getBackend().kernels as unknown as Record<string, (...args: unknown[]) => void>;
  const spent = new Map<string, { ms: number; calls: number }>();
  let on = false;
  for (const [name, fn] of Object.entries(kernels)) {
    kernels[name] = (...args: unknown[]) => {
      if (!on) return fn(...args);
      const t0 = performance.now();
      fn(...args);
      let key = name;
      if (name === 'matmul') {
        const p = args[3] as { batch: number; M: number; N: number; K: number; transA: boolean; transB: boolean };
        key = `matmul ${p.batch > 1 ? `${p.batch}×` : ''}${p.M}×${p.K}${p.transA ? 'ᵀ' : ''}·${p.K}×${p.N}${p.transB ? 'ᵀ' : ''}`;
      } else if (name === 'unary' || name === 'unaryGrad' || name === 'binary') key = `${name} ${(args.at(-1) as { op: string }).op}`;
      const e = spent.get(key) ?? { ms: 0, calls: 0 };
      e.ms += performance.now() - t0;
      e.calls++;
      spent.set(key, e);
    };
  }
  const model = createSeq2SeqModel(seq2seqConfig(VOCAB), 0);
  const optimizer = new AdamW(parameterGroups(model, { weightDecay: 0.01 }), { lr: 1e-3, betas: [0.9, 0.98] });
  const src = randomIds(BATCH, SRC - 1, 1);
  const tgt = randomIds(BATCH, TGT - 1, 2);
  const batch = collate(
    src.map((s, i) => ({ source: s, target: tgt[i] })),
    { padId: 0, bosId: 1, eosId: 2 },
  );
  const phases = { forward: 0, backward: 0, clip: 0, optimizer: 0 };
  const step = () => {
    tidy(() => {
      const t0 = performance.now();
      const loss = seq2seqLoss(model, batch, 0.1);
      const t1 = performance.now();
      loss.backward();
      phases.forward += t1 - t0;
      phases.backward += performance.now() - t1;
    });
    const t2 = performance.now();
    clipGradNorm(optimizer.params, 1);
    const t3 = performance.now();
    noGrad(() => optimizer.step());
    optimizer.zeroGrad();
    phases.clip += t3 - t2;
    phases.optimizer += performance.now() - t3;
  };
  step();
  for (const k of Object.keys(phases) as (keyof typeof phases)[]) phases[k] = 0;
  on = true;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const total = (performance.now() - t0) / steps;
  on = false;
  let kernelMs = 0;
  for (const { ms } of spent.values()) kernelMs += ms;
  console.log(
    `${getBackend().name}, ${getBackend().threads} thread(s): kernels ${(kernelMs / steps).toFixed(0)} ms/step, outside kernels ${(total - kernelMs / steps).toFixed(0)}`,
  );
  console.log(
    `${total.toFixed(0)} ms/step: ${Object.entries(phases)
      .map(([k, v]) => `${k} ${(v / steps).toFixed(0)}`)
      .join(', ')}`,
  );
  for (const [key, { ms, calls }] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(
      `  ${(ms / steps).toFixed(1).padStart(8)} ms ${((100 * ms) / steps / total).toFixed(1).padStart(5)}% ${String(calls / steps).padStart(4)}× ${key}`,
    );
  }
}

/** Child: decoding sentences per second, fixed 24 tokens a sentence (</s> disabled). */
function childDecode(threads: number, repeats: number): void {
  getBackend().setThreads(threads);
  const model = createSeq2SeqModel(seq2seqConfig(VOCAB), 0).eval();
  const length = 24;
  const rows: Record<string, number>[] = [];
  for (const batchSize of [1, 32]) {
    const sources = randomIds(batchSize, 15, 3).map((s) => [...s, 2]);
    const ids = Int32Array.from(sources.flat());
    const mask = new Uint8Array(ids.length).fill(1);
    for (const beam of [1, 4]) {
      for (const cache of [true, false]) {
        if (!cache && (batchSize === 32 || quick)) continue;
        const run = () => {
          const decoder = new TransformerStepDecoder(
            model,
            { ids, mask, batch: batchSize, length: 16 },
            { beams: beam, cache, maxLength: length },
          );
          const o = { bosId: 1, eosId: -1, maxLength: length };
          noGrad(() => (beam === 1 ? greedySearch(decoder, o) : beamSearch(decoder, { ...o, beamSize: beam })));
          decoder.dispose();
        };
        run();
        const times: number[] = [];
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          run();
          times.push((performance.now() - t0) / 1000);
        }
        rows.push({ batch: batchSize, beam, cache: cache ? 1 : 0, sentencesPerSecond: batchSize / median(times), tokens: length });
      }
    }
  }
  console.log(JSON.stringify({ system: `attune-${getBackend().name}`, threads: getBackend().threads, decode: rows }));
}

interface Row {
  system: string;
  threads: number;
  tokensPerSecond?: number;
  [k: string]: unknown;
}

function child(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Row | null {
  const r = spawnSync(command, args, { env, encoding: 'utf8', timeout: 20 * 60_000 });
  const line = r.stdout?.trim().split('\n').at(-1);
  try {
    return JSON.parse(line ?? '') as Row;
  } catch {
    console.log(`${label}: failed (${r.error?.message ?? `exit ${r.status}`}) ${r.stderr?.trim().split('\n').slice(-3).join(' | ')}`);
    return null;
  }
}

/** attune's default backend in Node (native where its addon loads), then wasm for comparison. */
function attuneBackends(): string[] {
  const name = getBackend().name;
  return name === 'wasm' ? ['wasm'] : [name, 'wasm'];
}

function parent(): void {
  const steps = quick ? 3 : 20;
  const backends = attuneBackends();
  const self = path.join(here, 'train-seq2seq.ts');
  const machine = machineInfo();
  console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
  if (machine.loadAverage[0]! > machine.cores / 2) {
    console.log(
      `WARNING: the machine is busy (load ${machine.loadAverage[0]!.toFixed(1)} on ${machine.cores} cores): timings and ratios are unreliable; multi-threaded OpenBLAS degrades worst`,
    );
  }
  const rows: Row[] = [];
  for (const threads of [1, 2]) {
    for (const backend of backends) {
      const r = child(`attune ${backend} ${threads}T`, process.execPath, [
        '--import',
        'tsx',
        self,
        '--child',
        'train',
        String(threads),
        String(steps),
        backend,
      ]);
      if (r) rows.push(r);
    }
    if (existsSync(python)) {
      const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const t = child(
        `pytorch ${threads}T`,
        python,
        [path.join(here, 'seq2seq_torch.py'), String(threads), String(steps), String(BATCH), String(SRC), String(TGT)],
        env,
      );
      if (t) rows.push(t);
    } else console.log('pytorch: /usr/bin/python3 not found (apt-get install python3-torch libopenblas0-pthread)');
  }
  console.log(`\nSeq2seq training throughput (7.6M parameters, batch ${BATCH} × ${SRC} source × ${TGT} target tokens, median step)`);
  console.log(
    `${'system'.padEnd(14)} ${'threads'.padStart(7)} ${'tokens/s'.padStart(10)} ${'step s'.padStart(8)} ${'peak RSS MiB'.padStart(13)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.system.padEnd(14)} ${String(r.threads).padStart(7)} ${(r.tokensPerSecond ?? 0).toFixed(0).padStart(10)} ${(r.medianStepSeconds as number).toFixed(3).padStart(8)} ${(r.peakRssMiB as number).toFixed(0).padStart(13)}`,
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
    rows.find((r) => r.system === system && r.threads === threads)?.tokensPerSecond ?? Number.NaN;
  const targets = backends.flatMap((backend) => [
    {
      label: `attune ${backend} 2T / PyTorch 2T`,
      value: rate(`attune-${backend}`, 2) / rate('pytorch-cpu', 2),
      goal: backend === backends[0] ? 1 : null,
    },
    { label: `attune ${backend} 1T / PyTorch 1T`, value: rate(`attune-${backend}`, 1) / rate('pytorch-cpu', 1), goal: null },
    // PyTorch at its best: its 2-thread OpenBLAS can be slower than one thread on these small GEMMs
    {
      label: `attune ${backend} 2T / PyTorch best`,
      value: rate(`attune-${backend}`, 2) / Math.max(rate('pytorch-cpu', 1), rate('pytorch-cpu', 2)),
      goal: null,
    },
  ]);
  console.log('\nTarget (ratios from this run)');
  for (const t of targets) {
    console.log(
      `  ${t.label.padEnd(32)} ${t.value.toFixed(2)}×${t.goal ? `  (target ≥ ${t.goal}: ${t.value >= t.goal ? 'met' : 'NOT met'})` : ''}`,
    );
  }
  const decode = child('attune decode', process.execPath, [
    '--import',
    'tsx',
    self,
    '--child',
    'decode',
    '2',
    String(quick ? 1 : 5),
    backends[0],
  ]);
  if (decode) {
    console.log(`\nDecoding, attune (${backends[0]}) 2 threads, 24 tokens per sentence (sentences/s)`);
    console.log(`${'batch'.padStart(5)} ${'search'.padEnd(8)} ${'KV cache'.padStart(10)} ${'no cache'.padStart(10)}`);
    const d = decode.decode as Record<string, number>[];
    for (const batch of [1, 32]) {
      for (const beam of [1, 4]) {
        const get = (cache: number) => d.find((x) => x.batch === batch && x.beam === beam && x.cache === cache)?.sentencesPerSecond;
        const cached = get(1);
        const uncached = get(0);
        console.log(
          `${String(batch).padStart(5)} ${(beam === 1 ? 'greedy' : `beam ${beam}`).padEnd(8)} ${(cached?.toFixed(1) ?? '-').padStart(10)} ${(uncached?.toFixed(1) ?? '-').padStart(10)}`,
        );
      }
    }
  }
  mkdirSync(path.join(here, 'results'), { recursive: true });
  const file = path.join(here, 'results', 'train-seq2seq.json');
  writeFileSync(
    file,
    `${JSON.stringify({ name: 'train-seq2seq', machine, quick, batch: { BATCH, SRC, TGT }, targets, rows, decode }, null, 2)}\n`,
  );
  console.log(`results in ${file}`);
}

const at = process.argv.indexOf('--child');
if (at >= 0) {
  const [kind, a, b, backend] = process.argv.slice(at + 1);
  if (backend) setBackend(backend);
  if (kind === 'train') childTrain(Number(a), Number(b));
  else if (kind === 'profile') childProfile(Number(a), Number(b));
  else childDecode(Number(a), Number(b));
} else parent();
