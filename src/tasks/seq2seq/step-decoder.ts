// A Seq2SeqTransformer as a StepDecoder: the sources are encoded once, each
// source's memory is repeated for its beams, and every step feeds one token
// per row through the decoder on its KV cache (self-attention keys/values
// grow by a row; cross-attention keys/values are projected once). With
// `cache: false` each step re-runs the decoder over the whole prefix — the
// slow reference the cached path is tested against.
//
// B sources · K beams · rows = B·K · Ns source length · V vocabulary

import { noGrad } from '../../autograd/tape.js';
import type { DecoderCache } from '../../nn/decoder-cache.js';
import type { Seq2SeqTransformer } from '../../nn/seq2seq.js';
import { reshape } from '../../ops/shape.js';
import { logSoftmax } from '../../ops/softmax.js';
import { tensor } from '../../tensor/create.js';
import { keep, tidy } from '../../tensor/scope.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { StepDecoder } from './search.js';

/** Padded source ids [B, Ns] with their keep-mask (1 = real token). */
export interface SourceBatch {
  ids: Int32Array;
  mask: Uint8Array;
  batch: number;
  length: number;
}

export interface TransformerStepDecoderOptions {
  /** Rows per source (the beam size; default 1). */
  beams?: number;
  /** Decode on the KV cache (default true). */
  cache?: boolean;
  /** Steps the cache must hold (default 128). */
  maxLength?: number;
}

export class TransformerStepDecoder implements StepDecoder {
  readonly rows: number;
  readonly vocabSize: number;
  private readonly memory: Tensor;
  private readonly memoryMask: Tensor;
  private readonly cache: DecoderCache | null;
  private history: number[][];

  constructor(
    private readonly model: Seq2SeqTransformer,
    sources: SourceBatch,
    options: TransformerStepDecoderOptions = {},
  ) {
    const K = options.beams ?? 1;
    const { batch: B, length: Ns } = sources;
    if (sources.ids.length !== B * Ns || sources.mask.length !== B * Ns) {
      throw new Error(
        `TransformerStepDecoder: source ids/mask must hold batch·length = ${B * Ns} entries, got ${sources.ids.length}/${sources.mask.length}`,
      );
    }
    this.rows = B * K;
    this.vocabSize = model.config.tgtVocabSize;
    const maskK = new Uint8Array(B * K * Ns);
    for (let r = 0; r < B * K; r++) maskK.set(sources.mask.subarray(Math.floor(r / K) * Ns, (Math.floor(r / K) + 1) * Ns), r * Ns);
    this.memoryMask = keep(tensor(maskK, [B * K, Ns], 'bool'));
    this.memory = keep(
      noGrad(() =>
        tidy(() => {
          const memory = model.encode(tensor(sources.ids, [B, Ns], 'int32'), tensor(sources.mask, [B, Ns], 'bool'));
          if (K === 1) return memory;
          const D = memory.shape[2] as number;
          const m = memory.view();
          const out = new Float32Array(B * K * Ns * D);
          for (let r = 0; r < B * K; r++) out.set(m.subarray(Math.floor(r / K) * Ns * D, (Math.floor(r / K) + 1) * Ns * D), r * Ns * D);
          return tensor(out, [B * K, Ns, D], memory.dtype);
        }),
      ),
    );
    this.cache = (options.cache ?? true) ? model.createCache(this.rows, (options.maxLength ?? 128) + 1) : null;
    this.history = Array.from({ length: this.rows }, () => []);
  }

  step(tokens: Int32Array): Float32Array {
    const { rows, vocabSize: V } = this;
    if (tokens.length !== rows) throw new Error(`TransformerStepDecoder.step: expected ${rows} tokens, got ${tokens.length}`);
    return noGrad(() =>
      tidy(() => {
        if (this.cache) {
          const logits = this.model.decode(tensor(tokens, [rows, 1], 'int32'), this.memory, {
            cache: this.cache,
            memoryPaddingMask: this.memoryMask,
          });
          return Float32Array.from(logSoftmax(reshape(logits, [rows, V])).view());
        }
        tokens.forEach((t, r) => {
          this.history[r].push(t);
        });
        const T = this.history[0].length;
        const ids = tensor(Int32Array.from(this.history.flat()), [rows, T], 'int32');
        const all = logSoftmax(this.model.decode(ids, this.memory, { memoryPaddingMask: this.memoryMask })).view();
        const out = new Float32Array(rows * V);
        for (let r = 0; r < rows; r++) out.set(all.subarray((r * T + T - 1) * V, (r * T + T) * V), r * V);
        return out;
      }),
    );
  }

  reorder(indices: Int32Array): void {
    let identity = true;
    for (let r = 0; r < indices.length; r++) if (indices[r] !== r) identity = false;
    if (identity) return;
    if (this.cache) this.cache.reorder(indices);
    else this.history = Array.from(indices, (i) => this.history[i].slice());
  }

  dispose(): void {
    this.cache?.dispose();
    this.memory.dispose();
    this.memoryMask.dispose();
  }
}
