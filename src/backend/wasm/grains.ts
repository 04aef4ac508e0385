// Work per thread below which a non-GEMM kernel does not wake another
// thread: ctx.threadsFor(work, grain). This record is the defaults of the
// 'grains' kernel of the wasm settings registry (settings.ts): change it
// through KernelSettings.setDefaults (tests force every kernel onto all
// threads with grain 1; the autotuner can adjust them). The attention and
// GEMM kernels keep their grains with their other settings there.
//
// How they were chosen (2-core AMD EPYC VM, Node 20): handing a share to a
// sleeping worker and waiting for it costs ~40–50 µs when the machine is
// idle (~10 µs when the other core is already awake), so each grain is the
// work that keeps one thread busy for ≥ ~50 µs. Measured single-thread
// costs per element: add, copy, row sums 0.16–0.19 ns; dropout 0.5 ns;
// layerNorm 0.45 ns (backward 0.75 ns); exp 0.75 ns; a transpose 0.8 ns;
// softmax 1.3 ns; crossEntropy 1.7 ns; gelu 1.7 ns; powScalar 27 ns.

export const kernelGrains = {
  /**
   * binary, unary, unaryGrad: in units of one cheap element (an add, ~0.19 ns);
   * a unary op's elements count UNARY_COST times (src/backend/wasm/elementwise.ts).
   */
  elementwise: 262_144,
  /** dropout (elements). */
  dropout: 131_072,
  /** reduce (sum, max) and softmaxGrad of softmax (input elements). */
  reduce: 262_144,
  /** softmax, log-softmax and log-softmax's gradient: one exp per element. */
  softmax: 32_768,
  /** LayerNorm / RMSNorm, forward and backward (elements). */
  norm: 131_072,
  /** copy, embedding, embeddingGrad (elements moved). */
  gather: 262_144,
  /** crossEntropy (logits): one exp per logit. */
  crossEntropy: 32_768,
  /** rotary embeddings (elements). */
  rotary: 65_536,
};

export type KernelGrains = typeof kernelGrains;
