// Preset search spaces over the attention design of each task, and the mapping from a sampled
// point to the model's settings. numKvHeads comes from the sharing scheme (MHA: every head its
// own K/V, GQA: heads in groups of `kvGroup`, MQA: one K/V head).
//
// Text (translation, summarization): the model width and the attention's inner width
// (numHeads × headDim) are separate knobs; `window` bounds self-attention to that many tokens on
// each side (−1: unbounded; cross-attention always sees the whole source).
// Image: the same two widths (the ViT's attention may be narrower or wider than its residual
// stream, as `dim_head` in common ViT code), and no window: its 16 patches (plus the class
// token) are a 2-D grid, where a 1-D band over the row-major order would cut rows apart.
//
// Each task has a `full` space (what `attune tune` searches) and a `quick` one of tiny widths,
// for `attune tune --quick` (npm start): minutes on two cores.

import type { ParamValue } from '../distributions.js';
import type { SearchSpace } from '../search-space.js';

const cat = (choices: readonly ParamValue[]) => ({ distribution: { kind: 'categorical' as const, choices } });
const int = (low: number, high: number) => ({ distribution: { kind: 'int' as const, low, high, log: false, step: 1 } });
const logFloat = (low: number, high: number) => ({ distribution: { kind: 'float' as const, low, high, log: true, step: null } });

/** The attention knobs shared by every task. */
function attentionParams(heads: number[], headDims: number[], positions: readonly string[]): SearchSpace['params'] {
  return {
    numHeads: cat(heads),
    headDim: cat(headDims),
    kvSharing: cat(['mha', 'gqa', 'mqa']),
    kvGroup: { distribution: { kind: 'categorical', choices: [2, 4] }, when: { kvSharing: ['gqa'] } },
    position: cat(positions),
    attentionDropout: { distribution: { kind: 'float', low: 0, high: 0.2, log: false, step: 0.05 } },
  };
}

const TEXT_POSITIONS = ['sinusoidal', 'learned', 'rope', 'alibi'];

function textSpace(name: string, size: 'full' | 'quick'): SearchSpace {
  const quick = size === 'quick';
  return {
    name: quick ? `${name}-quick` : name,
    params: {
      width: cat(quick ? [32, 64] : [64, 128, 256]),
      ...attentionParams(quick ? [1, 2, 4] : [1, 2, 4, 8], quick ? [8, 16] : [16, 32, 64], TEXT_POSITIONS),
      window: cat(quick ? [-1, 4, 8] : [-1, 8, 16, 32]),
      layers: quick ? int(1, 2) : int(1, 4),
      lr: quick ? logFloat(1e-3, 6e-3) : logFloat(3e-4, 3e-3),
    },
  };
}

function imageSpace(size: 'full' | 'quick'): SearchSpace {
  const quick = size === 'quick';
  return {
    name: quick ? 'image-quick' : 'image',
    params: {
      width: cat(quick ? [32, 64] : [32, 64, 128]),
      ...attentionParams(quick ? [1, 2, 4] : [1, 2, 4, 8], quick ? [4, 8, 16] : [8, 16, 32], [
        'learned',
        'sinusoidal',
        'rope',
        'alibi',
        'none',
      ]),
      layers: quick ? int(1, 3) : int(1, 6),
      lr: logFloat(3e-4, 5e-3),
    },
  };
}

/** Presets by task name: the full spaces. */
export const PRESET_SPACES: Record<string, SearchSpace> = {
  image: imageSpace('full'),
  translation: textSpace('translation', 'full'),
  summarization: textSpace('summarization', 'full'),
};

/** The quick spaces (tiny widths) of `attune tune --quick`. */
export const QUICK_SPACES: Record<string, SearchSpace> = {
  image: imageSpace('quick'),
  translation: textSpace('translation', 'quick'),
  summarization: textSpace('summarization', 'quick'),
};

/** The attention design a sampled point stands for (defaults for what the space left out). */
export interface AttentionDesign {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** the model width (default numHeads × headDim) */
  width: number;
  position: string;
  /** −1: unbounded */
  window: number;
  attentionDropout: number;
  layers: number;
  lr: number;
}

export function attentionDesign(params: Record<string, ParamValue>, defaults: Partial<AttentionDesign> = {}): AttentionDesign {
  const num = (k: string, d: number) => (typeof params[k] === 'number' ? (params[k] as number) : d);
  const numHeads = num('numHeads', defaults.numHeads ?? 4);
  const headDim = num('headDim', defaults.headDim ?? 16);
  const sharing = params.kvSharing ?? 'mha';
  let numKvHeads = numHeads;
  if (sharing === 'mqa') numKvHeads = 1;
  else if (sharing === 'gqa') numKvHeads = Math.max(1, numHeads / num('kvGroup', 2));
  if (!Number.isInteger(numKvHeads) || numHeads % numKvHeads !== 0) numKvHeads = numHeads; // a group larger than the heads: MHA
  return {
    numHeads,
    numKvHeads,
    headDim,
    width: num('width', defaults.width ?? numHeads * headDim),
    position: typeof params.position === 'string' ? params.position : (defaults.position ?? 'learned'),
    window: num('window', defaults.window ?? -1),
    attentionDropout: num('attentionDropout', defaults.attentionDropout ?? 0),
    layers: num('layers', defaults.layers ?? 2),
    lr: num('lr', defaults.lr ?? 1e-3),
  };
}
