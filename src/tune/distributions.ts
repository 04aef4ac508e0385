// Parameter distributions of a search space, in Optuna's vocabulary.
//
// A sampler works on an internal representation: a float or int is itself, a categorical is the
// index of its choice. `toInternal` / `toExternal` convert between the two.

export type ParamValue = number | string | boolean | null;

export interface FloatDistribution {
  kind: 'float';
  low: number;
  high: number;
  log: boolean;
  step: number | null;
}

export interface IntDistribution {
  kind: 'int';
  low: number;
  high: number;
  log: boolean;
  step: number;
}

export interface CategoricalDistribution {
  kind: 'categorical';
  choices: readonly ParamValue[];
}

export type Distribution = FloatDistribution | IntDistribution | CategoricalDistribution;

/** Throws an Error naming the parameter, what was expected and what was given. */
export function validateDistribution(name: string, d: Distribution): void {
  const fail = (what: string): never => {
    throw new Error(`distribution of '${name}': ${what}`);
  };
  if (d === null || typeof d !== 'object') fail(`expected a distribution object, got ${String(d)}`);
  switch (d.kind) {
    case 'float':
    case 'int': {
      if (!Number.isFinite(d.low) || !Number.isFinite(d.high))
        fail(`low and high must be finite numbers, got low=${d.low}, high=${d.high}`);
      if (d.low > d.high) fail(`low must be <= high, got low=${d.low}, high=${d.high}`);
      if (d.log && d.low <= 0) fail(`log scale needs low > 0, got low=${d.low}`);
      if (d.kind === 'int') {
        if (!Number.isInteger(d.low) || !Number.isInteger(d.high)) fail(`int bounds must be integers, got low=${d.low}, high=${d.high}`);
        if (d.log && d.low < 1) fail(`int log scale needs low >= 1, got low=${d.low}`);
        if (!Number.isInteger(d.step) || d.step < 1) fail(`int step must be an integer >= 1, got ${d.step}`);
        if (d.log && d.step !== 1) fail(`step and log cannot be combined (int log needs step=1), got step=${d.step}`);
      } else if (d.step !== null) {
        if (!(Number.isFinite(d.step) && d.step > 0)) fail(`float step must be > 0 or null, got ${d.step}`);
        if (d.log) fail(`step and log cannot be combined, got step=${d.step}, log=true`);
      }
      return;
    }
    case 'categorical': {
      if (!Array.isArray(d.choices) || d.choices.length === 0) fail('categorical choices must be a non-empty array');
      for (const c of d.choices) {
        const t = typeof c;
        if (!(c === null || t === 'number' || t === 'string' || t === 'boolean')) {
          fail(`categorical choices must be number, string, boolean or null, got ${t}`);
        }
      }
      return;
    }
    default:
      fail(`unknown kind '${(d as { kind: unknown }).kind}', expected 'float', 'int' or 'categorical'`);
  }
}

/** Float/int distribution helpers (Optuna adjusts `high` down to the last point on the step grid). */
export function floatDistribution(low: number, high: number, options: { log?: boolean; step?: number | null } = {}): FloatDistribution {
  const step = options.step ?? null;
  const d: FloatDistribution = { kind: 'float', low, high, log: options.log ?? false, step };
  validateDistribution('float', d);
  if (step !== null) d.high = adjustHigh(low, high, step);
  return d;
}

export function intDistribution(low: number, high: number, options: { log?: boolean; step?: number } = {}): IntDistribution {
  const d: IntDistribution = { kind: 'int', low, high, log: options.log ?? false, step: options.step ?? 1 };
  validateDistribution('int', d);
  d.high = adjustHigh(low, high, d.step);
  return d;
}

export function categoricalDistribution(choices: readonly ParamValue[]): CategoricalDistribution {
  const d: CategoricalDistribution = { kind: 'categorical', choices: [...choices] };
  validateDistribution('categorical', d);
  return d;
}

function adjustHigh(low: number, high: number, step: number): number {
  const n = Math.floor((high - low) / step + 1e-9);
  return roundFloat(low + n * step);
}

/** Removes the float noise of low + k·step (e.g. 0.30000000000000004 -> 0.3). */
function roundFloat(x: number): number {
  return Number.parseFloat(x.toPrecision(12));
}

function choiceIndex(choices: readonly ParamValue[], value: ParamValue): number {
  for (let i = 0; i < choices.length; i++) {
    const c = choices[i];
    if (c === value || (typeof c === 'number' && typeof value === 'number' && Number.isNaN(c) && Number.isNaN(value))) return i;
  }
  return -1;
}

/** External value -> the number a sampler works with (categorical -> index of the choice). */
export function toInternal(d: Distribution, value: ParamValue): number {
  if (d.kind === 'categorical') {
    const i = choiceIndex(d.choices, value);
    if (i < 0) throw new Error(`categorical value ${JSON.stringify(value)} is not one of the choices ${JSON.stringify(d.choices)}`);
    return i;
  }
  if (typeof value !== 'number') throw new Error(`${d.kind} distribution expects a number, got ${JSON.stringify(value)}`);
  return value;
}

/** Internal number -> external value (int rounds, categorical indexes its choices). */
export function toExternal(d: Distribution, internal: number): ParamValue {
  if (d.kind === 'categorical') {
    const i = Math.round(internal);
    if (!(i >= 0 && i < d.choices.length)) throw new Error(`categorical index must be in [0, ${d.choices.length - 1}], got ${internal}`);
    return d.choices[i];
  }
  if (d.kind === 'int') return Math.round(internal);
  return internal;
}

/** Whether `value` (external) is a point of the distribution, grid steps included. */
export function contains(d: Distribution, value: ParamValue): boolean {
  if (d.kind === 'categorical') return choiceIndex(d.choices, value) >= 0;
  if (typeof value !== 'number' || Number.isNaN(value)) return false;
  if (d.kind === 'int') {
    if (!Number.isInteger(value) || value < d.low || value > d.high) return false;
    return (value - d.low) % d.step === 0;
  }
  if (value < d.low || value > d.high) return false;
  if (d.step === null) return true;
  const k = (value - d.low) / d.step;
  return Math.abs(k - Math.round(k)) < 1e-8 * Math.max(1, Math.abs(k));
}

export function sameDistribution(a: Distribution, b: Distribution): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'categorical') {
    const bc = (b as CategoricalDistribution).choices;
    return a.choices.length === bc.length && a.choices.every((c, i) => choiceIndex([bc[i]], c) === 0);
  }
  const bn = b as FloatDistribution | IntDistribution;
  return a.low === bn.low && a.high === bn.high && a.log === bn.log && a.step === bn.step;
}

/** A distribution with exactly one point (Optuna's `_is_single`). */
export function isSingle(d: Distribution): boolean {
  if (d.kind === 'categorical') return d.choices.length === 1;
  if (d.low === d.high) return true;
  return d.step !== null && d.low + d.step > d.high;
}

/** Snaps an internal value to the distribution's grid and clips it into [low, high]. */
export function snapToGrid(d: FloatDistribution | IntDistribution, x: number): number {
  let v = x;
  if (d.step !== null) v = roundFloat(d.low + Math.round((v - d.low) / d.step) * d.step);
  else if (d.kind === 'int') v = Math.round(v);
  return Math.min(d.high, Math.max(d.low, v));
}

export function distributionToString(d: Distribution): string {
  if (d.kind === 'categorical') return `categorical(${JSON.stringify(d.choices)})`;
  const opts = [d.log ? 'log' : '', d.step !== null && !(d.kind === 'int' && d.step === 1) ? `step=${d.step}` : ''].filter(Boolean);
  return `${d.kind}(${d.low}, ${d.high}${opts.length ? `, ${opts.join(', ')}` : ''})`;
}
