// Trainer: the generic training loop. Pulls batches from a resumable
// source, computes a loss, backpropagates (accumulating over micro-batches),
// clips, steps the optimizer under a learning-rate schedule, evaluates every
// K steps, writes metrics as JSON lines, keeps the last and the best
// checkpoint, and on Ctrl-C (SIGINT) finishes the current step, saves, and
// returns. The loop yields to the event loop after every step so the
// signal is seen; everything else is synchronous.
//
// Exact resume: a checkpoint taken after step k holds the parameters, the
// optimizer state, the data order and the global RNG; evaluation runs with
// the RNG saved and restored so it never changes the training stream.

import { join } from 'node:path';
import { noGrad } from '../autograd/tape.js';
import type { Module } from '../nn/module.js';
import { mulScalar } from '../ops/unary.js';
import { clipGradNorm } from '../optim/clip.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LrSchedule } from '../optim/schedule.js';
import { getRngState, setRngState } from '../tensor/random.js';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { BatchSource } from './batches.js';
import { disposeCheckpoint, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
import { MetricsLog } from './metrics.js';
import { Progress, type ProgressMode } from './progress.js';

export interface TrainerOptions<B> {
  model: Module;
  optimizer: Optimizer;
  data: BatchSource<B>;
  /** The scalar loss of one (micro-)batch; runs inside a tidy scope with gradients recorded. */
  loss: (batch: B) => Tensor;
  /** Optimizer updates in the whole run (the schedule's horizon; `budget` may re-plan it). */
  steps: number;
  schedule?: LrSchedule;
  /** The schedule for a run of `steps` updates; takes the place of `schedule`, and is asked again when `budget` re-plans. */
  scheduleFor?: (steps: number) => LrSchedule;
  /**
   * A wall-clock budget that `steps` was estimated for. The estimate comes from a few
   * timed steps before training and misses by 10–30% (V8 warms up, evaluation costs):
   * once `replanAfter` seconds and the first evaluation have passed, `steps` is set again
   * from the pace measured so far so training fills `fill` (default 0.92) of `seconds`;
   * evalEvery and checkpointEvery scale with it.
   */
  budget?: { seconds: number; replanAfter: number; fill?: number };
  /** Micro-batches per update; their gradients add up (each loss scaled by 1/accumulate). */
  accumulate?: number;
  /** Clip the global gradient norm to this before each update. */
  clipGradNorm?: number;
  /** Metrics of the model on held-out data; runs in eval mode without gradients. */
  evaluate?: () => Record<string, number>;
  evalEvery?: number;
  /** The metric that picks the best checkpoint (default: the first evaluate() returns, higher is better). */
  best?: { metric: string; mode: 'max' | 'min' };
  /** Directory for last.safetensors, best.safetensors and metrics.jsonl (none: nothing is written). */
  outDir?: string;
  checkpointEvery?: number;
  /** Stop (and checkpoint) once this many seconds have passed. */
  maxSeconds?: number;
  /** Model class and config stored in checkpoints so they rebuild the model. */
  modelClass?: string;
  modelConfig?: unknown;
  /** Extra JSON stored in checkpoints (task options, ...). */
  extra?: Record<string, unknown>;
  progress?: ProgressMode;
  /** Examples in a batch, for throughput (default: its length, else 1). */
  batchItems?: (batch: B) => number;
  unit?: string;
  /** Listen for SIGINT during fit() (default true). */
  handleSigint?: boolean;
  /** Called after every update. */
  onStep?: (step: number, loss: number) => void;
}

export type StopReason = 'steps' | 'time' | 'signal';

export interface FitResult {
  step: number;
  stoppedBy: StopReason;
  lastLoss: number;
  lastEval: Record<string, number> | null;
  best: { step: number; value: number; metric: string } | null;
  seconds: number;
}

export class Trainer<B> {
  /** Updates done so far. */
  step = 0;
  private best: FitResult['best'] = null;
  private stopRequested = false;
  private itemsInLastStep = 0;
  private readonly metrics: MetricsLog;
  /** The run's length, evaluation and checkpoint periods, and schedule: options.* until a budget re-plans them. */
  private plan: { steps: number; evalEvery?: number; checkpointEvery?: number; schedule?: LrSchedule; origin: number };

  constructor(readonly options: TrainerOptions<B>) {
    const { steps, accumulate = 1, evalEvery, checkpointEvery, budget } = options;
    for (const [name, v] of Object.entries({ steps, accumulate, evalEvery, checkpointEvery })) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 1)) throw new Error(`Trainer: ${name} must be an integer ≥ 1, got ${v}`);
    }
    if (budget && !(budget.seconds > 0 && budget.replanAfter > 0 && budget.replanAfter < budget.seconds)) {
      throw new Error(`Trainer: budget needs 0 < replanAfter < seconds, got ${JSON.stringify(budget)}`);
    }
    this.metrics = new MetricsLog(options.outDir ? join(options.outDir, 'metrics.jsonl') : null);
    this.plan = { steps, evalEvery, checkpointEvery, schedule: options.scheduleFor?.(steps) ?? options.schedule, origin: 0 };
  }

  /** Updates the run is planned for (options.steps, or what a budget re-planned). */
  get steps(): number {
    return this.plan.steps;
  }

  get lastCheckpointPath(): string | null {
    return this.options.outDir ? join(this.options.outDir, 'last.safetensors') : null;
  }

  get bestCheckpointPath(): string | null {
    return this.options.outDir ? join(this.options.outDir, 'best.safetensors') : null;
  }

  /** Continues from a checkpoint: parameters, optimizer, data order, RNG and step. */
  resume(path: string): void {
    const checkpoint = loadCheckpoint(path);
    try {
      restoreCheckpoint(checkpoint, { model: this.options.model, optimizer: this.options.optimizer, data: this.options.data });
      this.step = checkpoint.step;
      const best = checkpoint.extra?.best as FitResult['best'] | undefined;
      if (best) this.best = best;
    } finally {
      disposeCheckpoint(checkpoint);
    }
  }

  /** Saves the state after the current step to `path`. */
  save(path: string): void {
    const { model, optimizer, data, modelClass, modelConfig, extra } = this.options;
    saveCheckpoint(
      path,
      model,
      { step: this.step, modelClass, modelConfig, data: data.state(), extra: { ...extra, totalSteps: this.plan.steps, best: this.best } },
      optimizer,
    );
  }

  /** Asks the loop to stop after the current step (what SIGINT does). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** One update: forward, backward (over the micro-batches), clip, step. Returns the mean loss. */
  trainStep(): number {
    const { model, optimizer, data, loss, accumulate = 1 } = this.options;
    const { schedule } = this.plan;
    model.train();
    optimizer.setLrFactor(schedule ? schedule(this.step) : 1);
    let total = 0;
    this.itemsInLastStep = 0;
    for (let i = 0; i < accumulate; i++) {
      const batch = data.next();
      this.itemsInLastStep += this.options.batchItems?.(batch) ?? (batch as { length?: number }).length ?? 1;
      total += tidy(() => {
        const l = loss(batch);
        (accumulate > 1 ? mulScalar(l, 1 / accumulate) : l).backward();
        return l.item();
      });
    }
    if (this.options.clipGradNorm) clipGradNorm(optimizer.params, this.options.clipGradNorm);
    noGrad(() => optimizer.step());
    optimizer.zeroGrad();
    this.step++;
    return total / accumulate;
  }

  /** Runs evaluate() in eval mode without gradients, leaving the RNG stream as it was. */
  evaluateNow(): Record<string, number> | null {
    const { evaluate, model } = this.options;
    if (!evaluate) return null;
    const rng = getRngState();
    model.eval();
    try {
      return noGrad(() => evaluate());
    } finally {
      model.train();
      setRngState(rng);
    }
  }

  /** Trains until `steps`, the time limit or SIGINT; evaluates and checkpoints along the way. */
  async fit(): Promise<FitResult> {
    const o = this.options;
    const started = performance.now();
    const progress = new Progress(o.progress ?? 'auto', this.plan.steps, o.unit);
    const firstStep = this.step;
    let replanned = !o.budget;
    const onSignal = (): void => {
      if (this.stopRequested) process.exit(130);
      this.stopRequested = true;
      progress.log('interrupted: saving a checkpoint after this step (Ctrl-C again to quit at once)');
    };
    if (o.handleSigint ?? true) process.on('SIGINT', onSignal);
    let stoppedBy: StopReason = 'steps';
    let lastLoss = Number.NaN;
    let lastEval: Record<string, number> | null = null;
    let rate = 0;
    progress.start(this.step);
    try {
      while (this.step < this.plan.steps) {
        const t0 = performance.now();
        lastLoss = this.trainStep();
        const seconds = (performance.now() - t0) / 1000;
        const items = this.itemsInLastStep;
        rate = rate === 0 ? items / seconds : 0.9 * rate + 0.1 * (items / seconds);
        o.onStep?.(this.step, lastLoss);
        progress.update(this.step, { loss: lastLoss, lr: o.optimizer.lr, throughput: rate });
        this.metrics.write({ step: this.step, loss: lastLoss, lr: o.optimizer.lr, [`${o.unit ?? 'items'}PerSecond`]: rate });
        const { evalEvery, checkpointEvery } = this.plan;
        if (this.due(evalEvery)) lastEval = this.runEval(progress);
        if (this.due(checkpointEvery)) this.saveLast();
        const elapsed = (performance.now() - started) / 1000;
        // the pace includes one evaluation when there are any: they are a share of every stretch of the run
        if (!replanned && o.budget && elapsed >= o.budget.replanAfter && (!evalEvery || this.step - firstStep >= evalEvery)) {
          replanned = true;
          this.replan(o.budget, elapsed, this.step - firstStep, progress);
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopRequested) stoppedBy = 'signal';
        else if (o.maxSeconds !== undefined && (performance.now() - started) / 1000 >= o.maxSeconds) stoppedBy = 'time';
        if (stoppedBy !== 'steps') break;
      }
      if (o.evaluate && (lastEval === null || !this.due(this.plan.evalEvery)) && stoppedBy !== 'signal') {
        lastEval = this.runEval(progress);
      }
      this.saveLast();
    } finally {
      progress.stop();
      if (o.handleSigint ?? true) process.off('SIGINT', onSignal);
    }
    const seconds = (performance.now() - started) / 1000;
    this.metrics.write({ event: 'end', step: this.step, stoppedBy, seconds, lastEval, best: this.best });
    return { step: this.step, stoppedBy, lastLoss, lastEval, best: this.best, seconds };
  }

  /** Sets `steps` from the pace so far: `done` updates in `elapsed` seconds. */
  private replan(budget: NonNullable<TrainerOptions<B>['budget']>, elapsed: number, done: number, progress: Progress): void {
    const left = budget.seconds * (budget.fill ?? 0.92) - elapsed;
    const steps = Math.max(this.step + 1, this.step + Math.floor((left * done) / elapsed));
    const before = this.plan.steps;
    this.setSteps(steps);
    progress.setTotal(steps);
    this.metrics.write({ step: this.step, event: 'replan', steps, before, secondsPerStep: elapsed / done });
    progress.log(`budget: ${done} updates in ${elapsed.toFixed(0)} s; the run is re-planned from ${before} to ${steps} updates`);
  }

  private setSteps(steps: number): void {
    const { evalEvery, checkpointEvery } = this.plan;
    const scaled = (every: number | undefined) =>
      every === undefined ? undefined : Math.max(1, Math.round((every * steps) / this.plan.steps));
    this.plan = {
      steps,
      evalEvery: scaled(evalEvery),
      checkpointEvery: scaled(checkpointEvery),
      schedule: this.options.scheduleFor?.(steps) ?? this.plan.schedule,
      // the periods count from here, so a re-plan right after an evaluation does not bring another one a few steps later
      origin: this.step,
    };
  }

  /** Whether a period of `every` updates (counted from the plan's origin) ends at this step. */
  private due(every: number | undefined): boolean {
    return every !== undefined && (this.step - this.plan.origin) % every === 0;
  }

  private runEval(progress: Progress): Record<string, number> | null {
    const result = this.evaluateNow();
    if (!result) return null;
    this.metrics.write({ step: this.step, eval: result });
    progress.log(
      `step ${this.step}: ${Object.entries(result)
        .map(([k, v]) => `${k} ${formatMetric(v)}`)
        .join(', ')}`,
    );
    const metric = this.options.best?.metric ?? Object.keys(result)[0];
    const mode = this.options.best?.mode ?? 'max';
    const value = metric === undefined ? undefined : result[metric];
    if (metric !== undefined && value !== undefined && Number.isFinite(value)) {
      const better = !this.best || (mode === 'max' ? value > this.best.value : value < this.best.value);
      if (better) {
        this.best = { step: this.step, value, metric };
        if (this.bestCheckpointPath) this.save(this.bestCheckpointPath);
      }
    }
    return result;
  }

  private saveLast(): void {
    if (this.lastCheckpointPath) this.save(this.lastCheckpointPath);
  }
}

function formatMetric(v: number): string {
  return Math.abs(v) >= 1000 || Number.isInteger(v) ? String(v) : v.toFixed(4);
}
