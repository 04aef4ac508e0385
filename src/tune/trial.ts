// A live trial (Optuna's Trial): what an objective function gets. suggest* samples a parameter
// (or returns a fixed or already-sampled one), report() records an intermediate value and
// shouldPrune() asks the study's pruner. Writes go to the storage in order, behind the caller:
// suggest/report/setUserAttr return at once and a later await (shouldPrune, tell) surfaces errors.

import {
  type CategoricalDistribution,
  contains,
  type Distribution,
  type FloatDistribution,
  type IntDistribution,
  type ParamValue,
  sameDistribution,
  validateDistribution,
} from './distributions.js';
import { cloneTrial, type FrozenTrial, type StudyDirection } from './frozen-trial.js';
import { INTERMEDIATE_VECTORS_KEY } from './pruners/base.js';
import type { TrialUpdate } from './storage/base.js';

/** Throw this from an objective to stop the trial as PRUNED (Optuna's TrialPruned). */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** What a Trial needs from its study (implemented by Study). */
export interface TrialHost {
  readonly directions: readonly StudyDirection[];
  sampleParam(trial: Trial, name: string, distribution: Distribution): ParamValue;
  pruneCheck(trial: Trial): Promise<boolean>;
  writeTrial(trialId: number, update: TrialUpdate): Promise<void>;
}

export class Trial {
  private frozen: FrozenTrial;
  private pending: Promise<void> = Promise.resolve();
  private writeError: unknown = null;

  constructor(
    private readonly host: TrialHost,
    frozen: FrozenTrial,
    /** params fixed by enqueueTrial or a retry: used as they are */
    readonly fixedParams: Readonly<Record<string, ParamValue>>,
    /** params the sampler chose jointly at ask() */
    readonly relativeParams: Readonly<Record<string, ParamValue>>,
    readonly relativeSearchSpace: Readonly<Record<string, Distribution>>,
  ) {
    this.frozen = frozen;
  }

  get number(): number {
    return this.frozen.number;
  }

  get trialId(): number {
    return this.frozen.trialId;
  }

  get params(): Readonly<Record<string, ParamValue>> {
    return { ...this.frozen.params };
  }

  get distributions(): Readonly<Record<string, Distribution>> {
    return { ...this.frozen.distributions };
  }

  get userAttrs(): Readonly<Record<string, unknown>> {
    return structuredClone(this.frozen.userAttrs);
  }

  get datetimeStart(): Date | null {
    return this.frozen.datetimeStart;
  }

  /** A snapshot of the trial as the storage will hold it once pending writes land. */
  snapshot(): FrozenTrial {
    return cloneTrial(this.frozen);
  }

  suggestFloat(name: string, low: number, high: number, options: { log?: boolean; step?: number | null } = {}): number {
    const d: FloatDistribution = { kind: 'float', low, high, log: options.log ?? false, step: options.step ?? null };
    return this.suggest(name, d) as number;
  }

  suggestInt(name: string, low: number, high: number, options: { log?: boolean; step?: number } = {}): number {
    const d: IntDistribution = { kind: 'int', low, high, log: options.log ?? false, step: options.step ?? 1 };
    return this.suggest(name, d) as number;
  }

  suggestCategorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    const d: CategoricalDistribution = { kind: 'categorical', choices };
    return this.suggest(name, d) as T;
  }

  /** Samples (or returns) the parameter `name` from any distribution. */
  suggest(name: string, distribution: Distribution): ParamValue {
    if (typeof name !== 'string' || name.length === 0)
      throw new Error(`suggest: parameter name must be a non-empty string, got ${JSON.stringify(name)}`);
    validateDistribution(name, distribution);
    const seen = this.frozen.distributions[name];
    if (seen) {
      if (!sameDistribution(seen, distribution)) {
        throw new Error(
          `suggest '${name}': already sampled from ${JSON.stringify(seen)} in trial ${this.number}, now asked for ${JSON.stringify(distribution)}`,
        );
      }
      return this.frozen.params[name]!;
    }
    let value: ParamValue;
    if (name in this.fixedParams) {
      value = this.fixedParams[name]!;
      if (!contains(distribution, value)) {
        throw new Error(`suggest '${name}': fixed value ${JSON.stringify(value)} (enqueued) is outside ${JSON.stringify(distribution)}`);
      }
    } else if (
      name in this.relativeParams &&
      this.relativeSearchSpace[name] &&
      sameDistribution(this.relativeSearchSpace[name], distribution)
    ) {
      value = this.relativeParams[name]!;
    } else {
      value = this.host.sampleParam(this, name, distribution);
    }
    this.frozen.params[name] = value;
    this.frozen.distributions[name] = distribution;
    this.write({ params: { [name]: value }, distributions: { [name]: distribution } });
    return value;
  }

  /**
   * Records the value of the (first) objective at `step` (an integer >= 0); a repeated step is
   * ignored, as in Optuna. With several objectives a vector (one value per objective) may be
   * given: its first value is the intermediate value and the whole vector is kept in
   * `systemAttrs.intermediate_vectors[step]`, which the pruners compare by domination.
   */
  report(value: number | readonly number[], step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new Error(`report: step must be an integer >= 0, got ${step}`);
    const n = this.host.directions.length;
    const vector = typeof value === 'number' ? null : value;
    if (vector !== null) {
      if (!Array.isArray(vector) || vector.length !== n || vector.some((v) => typeof v !== 'number'))
        throw new Error(`report: expected a number or ${n} numbers (one per objective), got ${JSON.stringify(value)}`);
    } else if (typeof value !== 'number') throw new Error(`report: value must be a number, got ${JSON.stringify(value)}`);
    if (this.frozen.intermediateValues.has(step)) return;
    const first = vector === null ? (value as number) : vector[0]!;
    this.frozen.intermediateValues.set(step, first);
    this.write({ intermediateValues: [[step, first]] });
    if (vector !== null) {
      const vectors = (this.frozen.systemAttrs[INTERMEDIATE_VECTORS_KEY] ?? {}) as Record<string, number[]>;
      this.setSystemAttr(INTERMEDIATE_VECTORS_KEY, { ...vectors, [String(step)]: [...vector] });
    }
  }

  /** Whether the study's pruner would stop this trial now. `if (await trial.shouldPrune()) throw new TrialPruned()`. */
  async shouldPrune(): Promise<boolean> {
    await this.flush();
    return this.host.pruneCheck(this);
  }

  setUserAttr(key: string, value: unknown): void {
    this.frozen.userAttrs[key] = structuredClone(value);
    this.write({ userAttrs: { [key]: value } });
  }

  setSystemAttr(key: string, value: unknown): void {
    this.frozen.systemAttrs[key] = structuredClone(value);
    this.write({ systemAttrs: { [key]: value } });
  }

  /** Waits for every pending write; throws the first write error. */
  async flush(): Promise<void> {
    await this.pending;
    if (this.writeError !== null) {
      const e = this.writeError;
      this.writeError = null;
      throw e;
    }
  }

  private write(update: TrialUpdate): void {
    const run = () =>
      this.host.writeTrial(this.trialId, update).catch((e: unknown) => {
        this.writeError ??= e;
      });
    this.pending = this.pending.then(run);
  }
}
