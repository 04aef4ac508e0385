// A tiny in-test study (StudyView + the ask/suggest/tell loop of the contract), so the samplers
// are tested without the real Study: relative sampling once per trial, then independent sampling
// for each parameter the relative space does not cover.

import { type Distribution, type ParamValue, sameDistribution, validateDistribution } from '../../../src/tune/distributions.js';
import type { FrozenTrial, StudyDirection, StudyView, TrialState } from '../../../src/tune/frozen-trial.js';
import type { Sampler } from '../../../src/tune/samplers/base.js';

export class ToyStudy implements StudyView {
  readonly trials: FrozenTrial[] = [];
  constructor(readonly directions: readonly StudyDirection[] = ['minimize']) {}

  getTrials(options: { states?: readonly TrialState[] } = {}): FrozenTrial[] {
    const states = options.states;
    return states ? this.trials.filter((t) => states.includes(t.state)) : [...this.trials];
  }

  /** A new RUNNING trial with the sampler's relative proposal ready. */
  ask(sampler: Sampler): ToyTrial {
    const frozen: FrozenTrial = {
      number: this.trials.length,
      trialId: this.trials.length,
      state: 'RUNNING',
      params: {},
      distributions: {},
      values: null,
      intermediateValues: new Map(),
      userAttrs: {},
      systemAttrs: {},
      datetimeStart: new Date(),
      datetimeComplete: null,
    };
    this.trials.push(frozen);
    sampler.beforeTrial?.(this, frozen);
    const space = sampler.inferRelativeSearchSpace(this, frozen);
    const relative = Object.keys(space).length > 0 ? sampler.sampleRelative(this, frozen, space) : {};
    return new ToyTrial(this, sampler, frozen, space, relative);
  }

  tell(trial: ToyTrial, state: TrialState, values: number[] | null = null): void {
    const f = trial.frozen;
    f.state = state;
    f.values = state === 'COMPLETE' ? values : null;
    f.datetimeComplete = new Date();
    trial.sampler.afterTrial?.(this, f, state, f.values);
  }

  /** n trials of `objective`, one after another. */
  optimize(sampler: Sampler, objective: (trial: ToyTrial) => number | number[], n: number): void {
    for (let i = 0; i < n; i++) {
      const t = this.ask(sampler);
      const v = objective(t);
      this.tell(t, 'COMPLETE', Array.isArray(v) ? v : [v]);
    }
  }
}

export class ToyTrial {
  constructor(
    readonly study: ToyStudy,
    readonly sampler: Sampler,
    readonly frozen: FrozenTrial,
    private readonly relativeSpace: Record<string, Distribution>,
    private readonly relative: Record<string, ParamValue>,
  ) {}

  suggest(name: string, d: Distribution): ParamValue {
    validateDistribution(name, d);
    const rd = this.relativeSpace[name];
    const value =
      name in this.relative && rd !== undefined && sameDistribution(rd, d)
        ? this.relative[name]!
        : this.sampler.sampleIndependent(this.study, this.frozen, name, d);
    this.frozen.params[name] = value;
    this.frozen.distributions[name] = d;
    return value;
  }

  float(name: string, low: number, high: number, opts: { log?: boolean; step?: number } = {}): number {
    return this.suggest(name, { kind: 'float', low, high, log: opts.log ?? false, step: opts.step ?? null }) as number;
  }

  int(name: string, low: number, high: number, opts: { log?: boolean; step?: number } = {}): number {
    return this.suggest(name, { kind: 'int', low, high, log: opts.log ?? false, step: opts.step ?? 1 }) as number;
  }

  categorical<T extends ParamValue>(name: string, choices: readonly T[]): T {
    return this.suggest(name, { kind: 'categorical', choices }) as T;
  }
}
