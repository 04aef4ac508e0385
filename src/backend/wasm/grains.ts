// Work per thread below which a non-GEMM kernel does not wake another
// thread (a wake-up costs ~10–50 µs): ctx.threadsFor(work, grain). Units
// are elements (the kernel's input size). Measured with the wasm kernels'
// timings on 1–3 threads; a mutable record so tests can force every kernel
// onto all threads (grain 1) and a tuner can adjust them.

export const kernelGrains = {
  /** binary, cheap unary ops (neg, abs, *Scalar, ...) and their gradients, dropout. */
  elementwise: 131_072,
  /** exp, log, tanh, sigmoid, gelu, geluTanh, silu and their gradients. */
  transcendental: 16_384,
  /** powScalar: a scalar float64 pow per element. */
  pow: 2_048,
  /** reduce (sum, max), softmaxGrad (softmax form). */
  reduce: 131_072,
  /** softmax, log-softmax, log-softmax's gradient: one exp per element. */
  softmax: 32_768,
  /** LayerNorm / RMSNorm forward and backward. */
  norm: 32_768,
  /** copy, embedding, embeddingGrad. */
  gather: 131_072,
  /** crossEntropy: one exp per logit. */
  crossEntropy: 32_768,
};

export type KernelGrains = typeof kernelGrains;
