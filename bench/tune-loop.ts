// The driving loop of the sampler bench, written against the contract's Sampler interface: ask the
// sampler for parameters (relative first, then independent), evaluate, append a FrozenTrial. It
// times only the sampler's own calls. `runThroughStudy` does the same through the real Study.

import { type Distribution, type ParamValue, sameDistribution } from '../src/tune/distributions.js';
import type { FrozenTrial, StudyDirection, StudyView, TrialState } from '../src/tune/frozen-trial.js';
import type { Sampler } from '../src/tune/samplers/base.js';
import { createStudy } from '../src/tune/study.js';
import type { Problem } from './tune-problems.js';

export interface RunResult {
  values: number[][];
  /** milliseconds spent inside the sampler's methods */
  samplerMs: number;
  wallMs: number;
}

class BenchStudy implements StudyView {
  readonly trials: FrozenTrial[] = [];
  constructor(readonly directions: readonly StudyDirection[]) {}
  getTrials(options: { states?: readonly TrialState[] } = {}): FrozenTrial[] {
    const states = options.states;
    return states ? this.trials.filter((t) => states.includes(t.state)) : [...this.trials];
  }
}

/** A sampler that forwards to `inner` and sums the time spent in it. */
export function timedSampler(inner: Sampler): Sampler & { spentMs: number } {
  const timed =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      const t0 = performance.now();
      try {
        return f(...a);
      } finally {
        wrapper.spentMs += performance.now() - t0;
      }
    };
  const wrapper: Sampler & { spentMs: number } = {
    spentMs: 0,
    inferRelativeSearchSpace: timed((s, t) => inner.inferRelativeSearchSpace(s, t)),
    sampleRelative: timed((s, t, sp) => inner.sampleRelative(s, t, sp)),
    sampleIndependent: timed((s, t, n, d) => inner.sampleIndependent(s, t, n, d)),
    beforeTrial: timed((s, t) => inner.beforeTrial?.(s, t)),
    afterTrial: timed((s, t, st, v) => inner.afterTrial?.(s, t, st, v)),
  };
  return wrapper;
}

export function runDirect(problem: Problem, inner: Sampler, nTrials: number): RunResult {
  const sampler = timedSampler(inner);
  const study = new BenchStudy(problem.directions);
  const values: number[][] = [];
  const wall0 = performance.now();
  for (let n = 0; n < nTrials; n++) {
    const frozen: FrozenTrial = {
      number: n,
      trialId: n,
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
    study.trials.push(frozen);
    sampler.beforeTrial!(study, frozen);
    const space = sampler.inferRelativeSearchSpace(study, frozen);
    const relative: Record<string, ParamValue> = Object.keys(space).length > 0 ? sampler.sampleRelative(study, frozen, space) : {};
    for (const [name, d] of Object.entries(problem.space) as [string, Distribution][]) {
      const rd = space[name];
      frozen.params[name] =
        name in relative && rd !== undefined && sameDistribution(rd, d)
          ? relative[name]!
          : sampler.sampleIndependent(study, frozen, name, d);
      frozen.distributions[name] = d;
    }
    const v = problem.evaluate(frozen.params);
    frozen.state = 'COMPLETE';
    frozen.values = v;
    frozen.datetimeComplete = new Date();
    sampler.afterTrial!(study, frozen, 'COMPLETE', v);
    values.push(v);
  }
  return { values, samplerMs: sampler.spentMs, wallMs: performance.now() - wall0 };
}

/** The same loop through createStudy / ask / suggest / tell on the in-memory storage. */
export async function runThroughStudy(problem: Problem, inner: Sampler, nTrials: number, name: string): Promise<RunResult> {
  const sampler = timedSampler(inner);
  const study = await createStudy({ name, storage: 'memory', directions: problem.directions, sampler });
  const values: number[][] = [];
  const wall0 = performance.now();
  for (let n = 0; n < nTrials; n++) {
    const trial = await study.ask();
    const params: Record<string, ParamValue> = {};
    for (const [pname, d] of Object.entries(problem.space) as [string, Distribution][]) {
      if (d.kind === 'categorical') params[pname] = trial.suggestCategorical(pname, d.choices);
      else if (d.kind === 'int') params[pname] = trial.suggestInt(pname, d.low, d.high, { log: d.log, step: d.step });
      else params[pname] = trial.suggestFloat(pname, d.low, d.high, { log: d.log, step: d.step });
    }
    const v = problem.evaluate(params);
    await study.tell(trial, v);
    values.push(v);
  }
  return { values, samplerMs: sampler.spentMs, wallMs: performance.now() - wall0 };
}
