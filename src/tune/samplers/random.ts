// RandomSampler: every parameter independently and uniformly (log-uniformly on log scales).

import { Rng } from '../../tensor/random.js';
import { type Distribution, type ParamValue, toExternal } from '../distributions.js';
import type { FrozenTrial, StudyView } from '../frozen-trial.js';
import type { Sampler } from './base.js';

/** A seed for a sampler's stream: the given one, or one drawn from Math.random when none is given. */
export function samplerRng(seed: number | undefined): Rng {
  return new Rng(seed ?? Math.floor(Math.random() * 4294967296));
}

/** Uniform in [0, 1) with 53 random bits. */
export function uniform53(rng: Rng): number {
  return (rng.nextU32() * 2097152 + (rng.nextU32() >>> 11)) / 9007199254740992;
}

/** A uniform integer in [0, n). */
export function randomIndex(rng: Rng, n: number): number {
  return Math.min(n - 1, Math.floor(uniform53(rng) * n));
}

/** One point of `d`, drawn uniformly on its (log) scale; grid distributions give each grid point equal odds. */
export function sampleUniform(rng: Rng, d: Distribution): ParamValue {
  if (d.kind === 'categorical') return d.choices[randomIndex(rng, d.choices.length)]!;
  if (d.log) {
    // Int log: log-uniform over [low − ½, high + ½], then rounded (each integer gets its log-width share).
    const lo = d.kind === 'int' ? Math.log(d.low - 0.5) : Math.log(d.low);
    const hi = d.kind === 'int' ? Math.log(d.high + 0.5) : Math.log(d.high);
    const x = Math.exp(lo + uniform53(rng) * (hi - lo));
    if (d.kind === 'int') return Math.min(d.high, Math.max(d.low, Math.round(x)));
    return Math.min(d.high, Math.max(d.low, x));
  }
  if (d.step !== null) {
    const nSteps = Math.round((d.high - d.low) / d.step);
    const k = randomIndex(rng, nSteps + 1);
    return toExternal(d, Math.min(d.high, Number.parseFloat((d.low + k * d.step).toPrecision(12))));
  }
  return d.low + uniform53(rng) * (d.high - d.low);
}

export interface RandomSamplerOptions {
  seed?: number;
}

export class RandomSampler implements Sampler {
  private readonly rng: Rng;

  constructor(options: RandomSamplerOptions = {}) {
    this.rng = samplerRng(options.seed);
  }

  inferRelativeSearchSpace(_study: StudyView, _trial: FrozenTrial): Record<string, Distribution> {
    return {};
  }

  sampleRelative(_study: StudyView, _trial: FrozenTrial, _space: Record<string, Distribution>): Record<string, ParamValue> {
    return {};
  }

  sampleIndependent(_study: StudyView, _trial: FrozenTrial, _name: string, distribution: Distribution): ParamValue {
    return sampleUniform(this.rng, distribution);
  }
}
