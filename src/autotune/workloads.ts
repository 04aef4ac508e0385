// What the autotuner times: a kernel call on real shapes. A shape is written
// as text on the command line (`attention:B=1,H=8,N=2048,D=64,causal`) and
// becomes a workload: inputs on the heap and one call of one backend's kernel.
//
//   attention:B=1,H=8,Hk=2,Nq=1,Nk=4096,D=64,causal,window=256,backward
//     N sets Nq = Nk; Hk defaults to H (GQA when smaller); a forward with
//     Nq ≤ 4 and Nk ≥ 128 is the decode kernel (as scaledDotProductAttention
//     chooses it); `backward` tunes the backward kernel.
//   matmul:b=8,M=64,N=64,K=64,tA,tB     batched C = A·B (tA / tB: transposed)

import type { AttentionParams, KernelName, KernelTable, MatmulParams } from '../backend/kernels.js';
import { attentionParams } from '../ops/attention.js';
import { randn } from '../tensor/create.js';
import { Tensor } from '../tensor/tensor.js';

export interface AttentionShape {
  kind: 'attention';
  batch: number;
  numHeads: number;
  numKvHeads: number;
  queryLength: number;
  keyLength: number;
  headDim: number;
  causal: boolean;
  /** [left, right] keys, or null for none. */
  window: [number, number] | null;
  backward: boolean;
}

export interface MatmulShape {
  kind: 'matmul';
  batch: number;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
}

export type TuneShape = AttentionShape | MatmulShape;

/** One kernel call on fixed inputs, runnable on any backend that has the kernel. */
export interface Workload {
  readonly label: string;
  readonly kernel: KernelName;
  readonly params: AttentionParams | MatmulParams;
  run(kernels: Partial<KernelTable>): void;
  /** The output tensors the call writes (to compare backends and settings). */
  outputs(): Tensor[];
  dispose(): void;
}

function positiveInt(text: string | undefined, name: string, spec: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`autotune: ${name} must be a positive integer in '${spec}', got '${text}'`);
  return n;
}

/** Parses one shape; the error names what was expected and what was given. */
export function parseShape(spec: string): TuneShape {
  const [kind, rest = ''] = spec.split(':');
  const fields = new Map<string, string | undefined>();
  for (const part of rest.split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    fields.set(k.trim(), v?.trim());
  }
  const take = (name: string, fallback?: number) => {
    if (!fields.has(name)) {
      if (fallback === undefined) throw new Error(`autotune: '${spec}' needs ${name}=<n>`);
      return fallback;
    }
    return positiveInt(fields.get(name), name, spec);
  };
  const flag = (name: string) => fields.has(name);
  if (kind === 'attention') {
    const known = new Set(['B', 'H', 'Hk', 'N', 'Nq', 'Nk', 'D', 'causal', 'window', 'backward']);
    for (const k of fields.keys())
      if (!known.has(k)) throw new Error(`autotune: unknown field '${k}' in '${spec}'; expected ${[...known].join(', ')}`);
    const N = fields.has('N') ? take('N') : undefined;
    const H = take('H', 8);
    const shape: AttentionShape = {
      kind,
      batch: take('B', 1),
      numHeads: H,
      numKvHeads: take('Hk', H),
      queryLength: take('Nq', N),
      keyLength: take('Nk', N),
      headDim: take('D', 64),
      causal: flag('causal'),
      window: fields.has('window') ? [take('window'), take('window')] : null,
      backward: flag('backward'),
    };
    if (shape.numHeads % shape.numKvHeads !== 0)
      throw new Error(`autotune: Hk = ${shape.numKvHeads} must divide H = ${shape.numHeads} in '${spec}'`);
    return shape;
  }
  if (kind === 'matmul') {
    const known = new Set(['b', 'M', 'N', 'K', 'tA', 'tB']);
    for (const k of fields.keys())
      if (!known.has(k)) throw new Error(`autotune: unknown field '${k}' in '${spec}'; expected ${[...known].join(', ')}`);
    return { kind, batch: take('b', 1), M: take('M'), N: take('N'), K: take('K'), transA: flag('tA'), transB: flag('tB') };
  }
  throw new Error(`autotune: a shape starts with 'attention:' or 'matmul:', got '${spec}'`);
}

export function formatTuneShape(s: TuneShape): string {
  if (s.kind === 'matmul') return `matmul:b=${s.batch},M=${s.M},N=${s.N},K=${s.K}${s.transA ? ',tA' : ''}${s.transB ? ',tB' : ''}`;
  const n = s.queryLength === s.keyLength ? `N=${s.queryLength}` : `Nq=${s.queryLength},Nk=${s.keyLength}`;
  const hk = s.numKvHeads !== s.numHeads ? `,Hk=${s.numKvHeads}` : '';
  const opts = `${s.causal ? ',causal' : ''}${s.window ? `,window=${s.window[0]}` : ''}${s.backward ? ',backward' : ''}`;
  return `attention:B=${s.batch},H=${s.numHeads}${hk},${n},D=${s.headDim}${opts}`;
}

/** The kernel a forward attention call with these parameters runs (the op's own choice). */
function forwardKernel(p: AttentionParams): 'attentionForward' | 'attentionDecode' {
  return p.queryLength <= 4 && p.keyLength >= 128 && p.dropoutP === 0 ? 'attentionDecode' : 'attentionForward';
}

function attentionWorkload(p: AttentionParams, kernel: KernelName, label: string, seed = 1): Workload {
  const backward = kernel === 'attentionBackward';
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyCapacity, headDim: D } = p;
  const q = randn([B, H, Nq, D], { seed });
  const k = randn([B, Hk, keyCapacity, D], { seed: seed + 1 });
  const v = randn([B, Hk, keyCapacity, D], { seed: seed + 2 });
  const out = Tensor.empty(q.shape, 'float32');
  const lse = Tensor.empty([B, H, Nq], 'float32');
  const owned = [q, k, v, out, lse];
  let grads: Tensor[] = [];
  let dOut: Tensor | null = null;
  const call = (b: Partial<KernelTable>) => {
    if (kernel === 'attentionForward') b.attentionForward?.(q, k, v, out, lse, p);
    else if (kernel === 'attentionDecode') b.attentionDecode?.(q, k, v, out, p);
    else if (dOut) {
      const [gq, gk, gv] = grads;
      b.attentionBackward?.(q, k, v, out, lse, dOut, gq, gk, gv, p);
    }
  };
  return {
    label,
    kernel,
    params: p,
    run(b: Partial<KernelTable>) {
      if (backward && !dOut) {
        // the backward reads O and the log-sum-exp of this backend's forward
        b.attentionForward?.(q, k, v, out, lse, p);
        dOut = randn(q.shape, { seed: seed + 3 });
        grads = [Tensor.empty(q.shape, 'float32'), Tensor.empty(k.shape, 'float32'), Tensor.empty(v.shape, 'float32')];
        owned.push(dOut, ...grads);
      }
      call(b);
    },
    outputs: () => (backward ? grads : [out]),
    dispose: () => {
      for (const t of owned) t.dispose();
    },
  };
}

function matmulWorkload(p: MatmulParams, label: string, seed = 1): Workload {
  const a = randn([Math.max(1, p.batchStrideA ? p.batch : 1), p.M * p.K], { seed });
  const b = randn([Math.max(1, p.batchStrideB ? p.batch : 1), p.K * p.N], { seed: seed + 1 });
  const c = Tensor.empty([p.batch, p.M, p.N], 'float32');
  return {
    label,
    kernel: 'matmul',
    params: p,
    run: (kernels) => kernels.matmul?.(a, b, c, p),
    outputs: () => [c],
    dispose: () => {
      for (const t of [a, b, c]) t.dispose();
    },
  };
}

/** Inputs on the heap for one shape, and the call that the tuner times. */
export function makeWorkload(shape: TuneShape, seed = 1): Workload {
  const label = formatTuneShape(shape);
  if (shape.kind === 'matmul') {
    const { batch, M, N, K, transA, transB } = shape;
    return matmulWorkload({ batch, M, N, K, batchStrideA: M * K, batchStrideB: K * N, transA, transB, accumulate: false }, label, seed);
  }
  const { batch: B, numHeads: H, numKvHeads: Hk, queryLength: Nq, keyLength: Nk, headDim: D } = shape;
  const q = Tensor.empty([B, H, Nq, D], 'float32');
  const k = Tensor.empty([B, Hk, Nk, D], 'float32');
  try {
    const p = attentionParams(q, k, { causal: shape.causal, window: shape.window ?? undefined });
    return attentionWorkload(p, shape.backward ? 'attentionBackward' : forwardKernel(p), label, seed);
  } finally {
    q.dispose();
    k.dispose();
  }
}

/** A workload with the parameters of a live call (tune on first use): fresh inputs, the call's mask and slopes. */
export function workloadFromProblem(kernel: string, p: unknown): Workload | null {
  if (kernel === 'matmul') {
    const m = p as MatmulParams;
    return matmulWorkload({ ...m, accumulate: false }, `matmul b${m.batch} ${m.M}×${m.N}×${m.K}`);
  }
  if (kernel === 'attentionForward' || kernel === 'attentionDecode' || kernel === 'attentionBackward') {
    const a = p as AttentionParams;
    const label = `attention B${a.batch} H${a.numHeads} Hk${a.numKvHeads} Nq${a.queryLength} Nk${a.keyLength} D${a.headDim}`;
    return attentionWorkload(a, kernel, label);
  }
  return null;
}
