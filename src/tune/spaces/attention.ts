// Preset search spaces over the attention design of each task, and the mapping from a sampled
// point to the model's settings. Width = numHeads × headDim; numKvHeads comes from the sharing
// scheme (MHA: every head its own K/V, GQA: heads in groups of `kvGroup`, MQA: one K/V head).
// No preset tunes a sliding window: the task factories (ViT, Seq2Seq options) take none yet.

import type { ParamValue } from '../distributions.js';
import type { SearchSpace } from '../search-space.js';

const cat = (choices: readonly ParamValue[]) => ({ distribution: { kind: 'categorical' as const, choices } });

/** The attention knobs shared by every task. */
function attentionParams(positions: readonly string[]): SearchSpace['params'] {
  return {
    numHeads: cat([1, 2, 4, 8]),
    headDim: cat([8, 16, 32, 64]),
    kvSharing: cat(['mha', 'gqa', 'mqa']),
    kvGroup: { distribution: { kind: 'categorical', choices: [2, 4] }, when: { kvSharing: ['gqa'] } },
    position: cat(positions),
    attentionDropout: { distribution: { kind: 'float', low: 0, high: 0.2, log: false, step: 0.05 } },
  };
}

/** Presets by task name. */
export const PRESET_SPACES: Record<string, SearchSpace> = {
  image: {
    name: 'image',
    params: {
      ...attentionParams(['learned', 'sinusoidal', 'rope', 'alibi', 'none']),
      layers: { distribution: { kind: 'int', low: 1, high: 6, log: false, step: 1 } },
      lr: { distribution: { kind: 'float', low: 3e-4, high: 5e-3, log: true, step: null } },
    },
  },
  translation: {
    name: 'translation',
    params: {
      numHeads: cat([1, 2, 4, 8]),
      headDim: cat([16, 32, 64]),
      layers: { distribution: { kind: 'int', low: 1, high: 4, log: false, step: 1 } },
      ffnMultiplier: cat([2, 4]),
      dropout: { distribution: { kind: 'float', low: 0, high: 0.3, log: false, step: 0.05 } },
      lr: { distribution: { kind: 'float', low: 3e-4, high: 3e-3, log: true, step: null } },
    },
  },
};
PRESET_SPACES.summarization = { ...PRESET_SPACES.translation!, name: 'summarization' };

/** The attention design a sampled point stands for (defaults for what the space left out). */
export interface AttentionDesign {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
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
    width: numHeads * headDim,
    position: typeof params.position === 'string' ? params.position : (defaults.position ?? 'learned'),
    window: num('window', defaults.window ?? -1),
    attentionDropout: num('attentionDropout', defaults.attentionDropout ?? 0),
    layers: num('layers', defaults.layers ?? 2),
    lr: num('lr', defaults.lr ?? 1e-3),
  };
}
