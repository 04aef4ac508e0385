// Micro-benchmark of the kernels small models spend their time in, on the
// active backend, timed by process CPU time (steadier than wall time on a
// shared machine; with --threads 1 every kernel runs on the calling thread):
//   attention forward / backward at the ViT's shape (B·H = 512, N = 17, D = 16)
//   gelu and its gradient over 2176 × 128 elements
//   GEMV [1, K]·[K, N] and small-M GEMMs
// Variants of a kernel alternate within one process (median of interleaved rounds).
//   node --import tsx bench/small-kernels.ts [--threads 1] [--rounds 15] [--only attention|gelu|gemv|gemm|decode]

import { parseArgs } from 'node:util';
import type { KernelTable } from '../src/backend/kernels.ts';
import { kernelSettings } from '../src/backend/settings.ts';
import * as at from '../src/index.ts';
import { attentionParams } from '../src/ops/attention.ts';
import { createSeq2SeqModel, seq2seqConfig } from '../src/tasks/seq2seq/model.ts';
import { TransformerStepDecoder } from '../src/tasks/seq2seq/step-decoder.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1' },
    rounds: { type: 'string', default: '15' },
    only: { type: 'string' },
    backend: { type: 'string', default: 'wasm' },
  },
});
at.setBackend(values.backend);
at.setThreads(Number(values.threads));
await at.ready();
const rounds = Number(values.rounds);
const kernels = at.getBackend().kernels as KernelTable;

interface Variant {
  name: string;
  flops?: number;
  elements?: number;
  run(): void;
  setup?(): void;
}

/** CPU time per call (ms) of each variant: rounds of `reps` calls, variants interleaved; median. */
function measure(title: string, variants: Variant[], reps: number): void {
  for (const v of variants) {
    v.setup?.();
    for (let i = 0; i < 3; i++) v.run();
  }
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < rounds; r++) {
    variants.forEach((v, k) => {
      v.setup?.();
      const c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) v.run();
      const c = process.cpuUsage(c0);
      times[k].push((c.user + c.system) / 1000 / reps);
    });
  }
  console.log(title);
  variants.forEach((v, k) => {
    const t = times[k].sort((a, b) => a - b);
    const ms = t[t.length >> 1];
    const rate = v.flops
      ? `${(v.flops / ms / 1e6).toFixed(2)} GFLOP/s`
      : v.elements
        ? `${((ms * 1e6) / v.elements).toFixed(2)} ns/element`
        : '';
    console.log(`  ${v.name.padEnd(34)} ${ms.toFixed(3).padStart(8)} ms  (min ${t[0].toFixed(3)})  ${rate}`);
  });
}

function attention(): void {
  const [B, H, N, D] = [128, 4, 17, 16];
  const q = at.keep(at.randn([B, H, N, D], { seed: 1 }));
  const k = at.keep(at.randn([B, H, N, D], { seed: 2 }));
  const v = at.keep(at.randn([B, H, N, D], { seed: 3 }));
  const dO = at.keep(at.randn([B, H, N, D], { seed: 4 }));
  const out = at.keep(at.zeros([B, H, N, D]));
  const lse = at.keep(at.zeros([B, H, N]));
  const [gq, gk, gv] = [0, 1, 2].map(() => at.keep(at.zeros([B, H, N, D])));
  const flops = 4 * B * H * N * N * D;
  const variants: Variant[] = [];
  // on wasm, the short-sequence kernels (shortLength ≥ N) against the tiled ones (shortLength 0)
  const registry = kernelSettings(values.backend);
  const shortLength = registry?.defaults('attentionForward').shortLength;
  const paths = shortLength === undefined ? [undefined] : [shortLength, 0];
  const withShort = (length: number | undefined, fn: () => void) => () => {
    if (length === undefined || shortLength === undefined || !registry) return fn();
    registry.setDefaults('attentionForward', { shortLength: length });
    registry.setDefaults('attentionBackward', { shortLength: length });
    try {
      fn();
    } finally {
      registry.setDefaults('attentionForward', { shortLength });
      registry.setDefaults('attentionBackward', { shortLength });
    }
  };
  // the same numbers in layout 'bnhd' ([B, N, H, D], as MultiHeadAttention passes them)
  const [qs, ks, vs, dOs, outs] = [q, k, v, dO, out].map((t) => at.keep(at.permute(t, [0, 2, 1, 3])));
  const [gqs, gks, gvs] = [gq, gk, gv].map((t) => at.keep(at.permute(t, [0, 2, 1, 3])));
  const pb = attentionParams(qs, ks, { layout: 'bnhd' });
  variants.push(
    { name: 'forward bnhd', flops, run: () => kernels.attentionForward(qs, ks, vs, outs, lse, pb) },
    {
      name: 'backward bnhd',
      flops: 2.5 * flops,
      setup: () => kernels.attentionForward(qs, ks, vs, outs, lse, pb),
      run: () => kernels.attentionBackward(qs, ks, vs, outs, lse, dOs, gqs, gks, gvs, pb),
    },
  );
  for (const [label, options] of [
    ['', {}],
    [' causal', { causal: true }],
  ] as const) {
    const p = attentionParams(q, k, options);
    for (const length of paths) {
      const path = length === undefined ? '' : length === 0 ? ' (tiled)' : ' (short)';
      variants.push(
        { name: `forward${label}${path}`, flops, run: withShort(length, () => kernels.attentionForward(q, k, v, out, lse, p)) },
        {
          name: `backward${label}${path}`,
          flops: 2.5 * flops,
          setup: withShort(length, () => kernels.attentionForward(q, k, v, out, lse, p)),
          run: withShort(length, () => kernels.attentionBackward(q, k, v, out, lse, dO, gq, gk, gv, p)),
        },
      );
    }
  }
  measure(`attention B=${B} H=${H} N=${N} D=${D}`, variants, 10);
}

function gelu(): void {
  const n = 2176 * 128;
  const x = at.keep(at.randn([n], { seed: 5 }));
  for (const [i, value] of x.view().entries()) x.view()[i] = 1.5 * value;
  const y = at.keep(at.zeros([n]));
  const dy = at.keep(at.randn([n], { seed: 6 }));
  const dx = at.keep(at.zeros([n]));
  measure(
    `gelu over ${n} elements`,
    [
      { name: 'gelu', elements: n, run: () => kernels.unary(x, y, { op: 'gelu', alpha: 0 }) },
      { name: 'gelu gradient', elements: n, run: () => kernels.unaryGrad(x, y, dy, dx, { op: 'gelu', alpha: 0 }) },
      { name: 'geluTanh', elements: n, run: () => kernels.unary(x, y, { op: 'geluTanh', alpha: 0 }) },
      { name: 'exp (for scale)', elements: n, run: () => kernels.unary(x, y, { op: 'exp', alpha: 0 }) },
    ],
    20,
  );
}

function gemv(): void {
  // on wasm, the unpacked path (gemvRows as built) against the packed GEMM (gemvRows 0)
  const registry = kernelSettings(values.backend);
  const built = registry?.defaults('matmul').gemvRows;
  const paths = built === undefined ? [undefined] : [built, 0];
  const variants: Variant[] = [];
  for (const [M, K, N, transB] of [
    [1, 512, 512, true],
    [1, 512, 512, false],
    [1, 64, 2048, true],
    [1, 2048, 64, true],
    [2, 512, 512, false],
    [4, 512, 512, true],
    [16, 256, 256, false],
  ] as const) {
    const a = at.keep(at.randn([M, K], { seed: 7 }));
    const b = at.keep(at.randn(transB ? [N, K] : [K, N], { seed: 8 }));
    const c = at.keep(at.zeros([M, N]));
    const p = { batch: 1, M, N, K, batchStrideA: 0, batchStrideB: 0, transA: false, transB, accumulate: false };
    for (const gemvRows of paths) {
      const path = gemvRows === undefined ? '' : gemvRows === 0 ? ' (packed)' : '';
      const run = () => {
        if (gemvRows !== undefined) registry?.setDefaults('matmul', { gemvRows });
        try {
          kernels.matmul(a, b, c, p);
        } finally {
          if (built !== undefined) registry?.setDefaults('matmul', { gemvRows: built });
        }
      };
      variants.push({ name: `matmul ${M}×${K}·${K}×${N}${transB ? 'ᵀ' : ''}${path}`, flops: 2 * M * N * K, run });
    }
  }
  measure('small matmuls', variants, 50);
}

/** The ViT step's GEMM shapes (bench/vit-step-profile.ts): tokens × width, K = 64 or 128. */
function vitGemms(): void {
  const T = 2176;
  const variants: Variant[] = [];
  for (const [M, K, N, transA, transB] of [
    [T, 64, 64, false, true],
    [T, 64, 64, false, false],
    [64, T, 64, true, false],
    [T, 64, 128, false, true],
    [128, T, 64, true, false],
  ] as const) {
    const a = at.keep(at.randn(transA ? [K, M] : [M, K], { seed: 7 }));
    const b = at.keep(at.randn(transB ? [N, K] : [K, N], { seed: 8 }));
    const c = at.keep(at.zeros([M, N]));
    const p = { batch: 1, M, N, K, batchStrideA: 0, batchStrideB: 0, transA, transB, accumulate: false };
    const name = `matmul ${M}×${K}${transA ? 'ᵀ' : ''}·${K}×${N}${transB ? 'ᵀ' : ''}`;
    variants.push({ name, flops: 2 * M * N * K, run: () => kernels.matmul(a, b, c, p) });
  }
  measure('ViT GEMMs', variants, 10);
}

/**
 * Token-by-token decoding of one sentence (the translation model's default
 * size, random weights, vocabulary 8,000, 24 source tokens, 32 steps on the
 * KV cache): M = 1 products everywhere, the output projection a [1, 256]·[8000, 256]ᵀ.
 */
function decode(): void {
  const model = createSeq2SeqModel(seq2seqConfig(8000), 1);
  model.eval();
  const Ns = 24;
  const sources = {
    ids: Int32Array.from({ length: Ns }, (_, i) => 5 + ((i * 37) % 7000)),
    mask: new Uint8Array(Ns).fill(1),
    batch: 1,
    length: Ns,
  };
  const registry = kernelSettings(values.backend);
  const built = registry?.defaults('matmul').gemvRows;
  const paths = built === undefined ? [undefined] : [built, 0];
  const steps = 32;
  const variants: Variant[] = paths.map((gemvRows) => ({
    name: `greedy, ${steps} tokens${gemvRows === 0 ? ' (packed GEMM)' : ''}`,
    run: () => {
      if (gemvRows !== undefined) registry?.setDefaults('matmul', { gemvRows });
      try {
        at.tidy(() => {
          const decoder = new TransformerStepDecoder(model, sources, { maxLength: steps });
          let tokens = new Int32Array(1).fill(1);
          for (let t = 0; t < steps; t++) {
            const logProbs = decoder.step(tokens);
            tokens = Int32Array.of(2 + (t % 50) + (logProbs[0] > 0 ? 1 : 0));
          }
          decoder.dispose();
        });
      } finally {
        if (built !== undefined) registry?.setDefaults('matmul', { gemvRows: built });
      }
    },
  }));
  measure('seq2seq decoding, batch 1 (dim 256, 3+3 layers, ffn 1024)', variants, 2);
}

const only = values.only;
if (!only || only === 'attention') attention();
if (!only || only === 'gelu') gelu();
if (!only || only === 'gemv') gemv();
if (!only || only === 'gemm') vitGemms();
if (!only || only === 'decode') decode();
