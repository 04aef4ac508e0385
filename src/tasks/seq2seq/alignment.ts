// What the decoder looked at: the cross-attention weights of a decoded
// sentence (teacher-forced over the output, averaged over heads, from one
// decoder layer or the mean of all), and a plain-text table of them.
//
// Nt target tokens (</s> included) · Ns source tokens (</s> included) · H heads

import { noGrad } from '../../autograd/tape.js';
import type { Seq2SeqTransformer } from '../../nn/seq2seq.js';
import { tensor } from '../../tensor/create.js';
import { tidy } from '../../tensor/scope.js';
import { encodeSource } from './generate.js';
import { sourceTokenizer, type Tokenizers, targetTokenizer } from './vocabulary.js';

export interface Alignment {
  sourcePieces: string[];
  targetPieces: string[];
  /** weights[i][j]: attention of target token i on source token j (rows sum to 1). */
  weights: number[][];
}

export interface AlignmentOptions {
  /** Decoder layer (default: the last; 'mean' averages all layers). */
  layer?: number | 'mean';
  maxSourceLength?: number;
}

/** Cross-attention of `targetIds` (generated tokens, without <s> and </s>) on the encoded source. */
export function crossAttentionAlignment(
  model: Seq2SeqTransformer,
  tokenizers: Tokenizers,
  source: string,
  targetIds: readonly number[],
  options: AlignmentOptions = {},
): Alignment {
  const sourceSide = sourceTokenizer(tokenizers);
  const tokenizer = targetTokenizer(tokenizers);
  const src = encodeSource(sourceSide, source, options.maxSourceLength ?? (model.config.maxLength ?? 512) - 1);
  const tgtIn = [tokenizer.bosId, ...targetIds];
  const layers = model.config.decoderLayers;
  const which = options.layer ?? layers - 1;
  if (which !== 'mean' && !(Number.isInteger(which) && which >= 0 && which < layers)) {
    throw new Error(`crossAttentionAlignment: layer must be 'mean' or an integer in [0, ${layers}), got ${which}`);
  }
  const Ns = src.length;
  const Nt = tgtIn.length;
  const sum = new Float64Array(Nt * Ns);
  noGrad(() =>
    tidy(() => {
      const memory = model.encode(tensor(Int32Array.from(src), [1, Ns], 'int32'));
      const { crossAttention } = model.decodeWithAttention(tensor(Int32Array.from(tgtIn), [1, Nt], 'int32'), memory);
      const used = which === 'mean' ? crossAttention : [crossAttention[which]];
      for (const w of used) {
        const H = w.shape[1] as number;
        const v = w.view();
        for (let h = 0; h < H; h++) for (let i = 0; i < Nt * Ns; i++) sum[i] += v[h * Nt * Ns + i] / (H * used.length);
      }
    }),
  );
  const piece = (t: typeof tokenizer) => (id: number) => t.decode([id], { skipSpecials: false });
  return {
    sourcePieces: src.map(piece(sourceSide)),
    // Row i is the step that produced target token i (the last one produced </s>).
    targetPieces: [...targetIds, tokenizer.eosId].map(piece(tokenizer)),
    weights: Array.from({ length: Nt }, (_, i) => Array.from(sum.subarray(i * Ns, (i + 1) * Ns))),
  };
}

const show = (piece: string) => JSON.stringify(piece).slice(1, -1).replaceAll(' ', '·');

/**
 * A text table: one row per target token. Up to `maxColumns` source tokens it
 * is the full matrix in percent (the row's maximum marked *); beyond, each row
 * lists its three most attended source tokens.
 */
export function formatAlignment(alignment: Alignment, { maxColumns = 24 } = {}): string {
  const { sourcePieces, targetPieces, weights } = alignment;
  const rowLabels = targetPieces.map(show);
  const labelWidth = Math.max(6, ...rowLabels.map((l) => l.length));
  const lines: string[] = [];
  if (sourcePieces.length <= maxColumns) {
    const cols = sourcePieces.map(show);
    const widths = cols.map((c) => Math.max(4, c.length));
    lines.push(`${'target'.padEnd(labelWidth)} │ ${cols.map((c, j) => c.padStart(widths[j])).join(' ')}`);
    lines.push(`${'─'.repeat(labelWidth)}─┼─${widths.map((w) => '─'.repeat(w)).join('─')}`);
    weights.forEach((row, i) => {
      const best = row.indexOf(Math.max(...row));
      const cells = row.map((w, j) => `${Math.round(100 * w)}${j === best ? '*' : ' '}`.padStart(widths[j]));
      lines.push(`${rowLabels[i].padEnd(labelWidth)} │ ${cells.join(' ')}`);
    });
  } else {
    lines.push(`${'target'.padEnd(labelWidth)} │ most attended source tokens (%)`);
    weights.forEach((row, i) => {
      const top = row
        .map((w, j) => [w, j] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, 3)
        .map(([w, j]) => `${show(sourcePieces[j])}@${j} ${Math.round(100 * w)}`);
      lines.push(`${rowLabels[i].padEnd(labelWidth)} │ ${top.join(', ')}`);
    });
  }
  return lines.join('\n');
}
