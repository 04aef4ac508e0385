// Crossover operators of NSGAIISampler, on two parents' external values.
//   uniform: each parameter from the second parent with probability `swappingProb` (Optuna's default).
//   sbx:     simulated binary crossover (Deb & Agrawal 1995) with bounds, on the (log) scale
//            normalised to [0, 1]; each numeric parameter recombined with probability ½; a child's
//            grid/int parameters round to the grid; categoricals as in uniform.

import type { Rng } from '../../tensor/random.js';
import type { Distribution, ParamValue } from '../distributions.js';
import { snapToGrid } from '../distributions.js';
import { uniform53 } from './random.js';

export type CrossoverKind = 'uniform' | 'sbx';

export interface CrossoverOptions {
  swappingProb: number;
  /** SBX distribution index: larger keeps children nearer their parents */
  sbxEta: number;
}

export function crossover(
  kind: CrossoverKind,
  rng: Rng,
  space: Record<string, Distribution>,
  p0: Record<string, ParamValue>,
  p1: Record<string, ParamValue>,
  options: CrossoverOptions,
): Record<string, ParamValue> {
  const child: Record<string, ParamValue> = {};
  for (const [name, d] of Object.entries(space)) {
    const a = p0[name]!;
    const b = p1[name]!;
    if (kind === 'uniform' || d.kind === 'categorical') {
      child[name] = uniform53(rng) < options.swappingProb ? b : a;
      continue;
    }
    child[name] = uniform53(rng) < 0.5 ? sbxValue(rng, d, a as number, b as number, options.sbxEta) : uniform53(rng) < 0.5 ? b : a;
  }
  return child;
}

/** One SBX child of x1, x2 within [low, high] on the distribution's (log) scale. */
function sbxValue(rng: Rng, d: Distribution & { kind: 'float' | 'int' }, x1: number, x2: number, eta: number): number {
  const t = (x: number): number => (d.log ? Math.log(x) : x);
  const lo = t(d.low);
  const hi = t(d.high);
  if (hi <= lo) return d.low;
  const y1 = (Math.min(t(x1), t(x2)) - lo) / (hi - lo);
  const y2 = (Math.max(t(x1), t(x2)) - lo) / (hi - lo);
  let y: number;
  if (y2 - y1 < 1e-14) y = y1;
  else {
    const u = uniform53(rng);
    const side = uniform53(rng) < 0.5;
    // spread factor beta_q bounded so the child stays in [0, 1] (Deb's bounded SBX)
    const beta = side ? 1 + (2 * y1) / (y2 - y1) : 1 + (2 * (1 - y2)) / (y2 - y1);
    const alpha = 2 - beta ** -(eta + 1);
    const betaQ = u <= 1 / alpha ? (u * alpha) ** (1 / (eta + 1)) : (1 / (2 - u * alpha)) ** (1 / (eta + 1));
    y = side ? 0.5 * (y1 + y2 - betaQ * (y2 - y1)) : 0.5 * (y1 + y2 + betaQ * (y2 - y1));
  }
  y = Math.min(1, Math.max(0, y));
  const x = lo + y * (hi - lo);
  return snapToGrid(d, d.log ? Math.exp(x) : x);
}
