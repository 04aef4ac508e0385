// Optimizer: parameter groups (each with its own lr and weight decay),
// per-parameter state buffers, and a state dict for checkpoints. SGD and
// AdamW implement update(); everything else is shared.

import { keep } from '../tensor/scope.js';
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** A set of parameters sharing hyperparameters; names key the state in checkpoints. */
export interface ParamGroup {
  params: readonly Tensor[];
  /** One name per parameter (default: their position, 'param.0', 'param.1', ...). */
  names?: readonly string[];
  lr?: number;
  weightDecay?: number;
}

/** A group with its hyperparameters resolved. `baseLr` is the lr schedules scale. */
export interface ResolvedGroup {
  params: Tensor[];
  names: string[];
  baseLr: number;
  lr: number;
  weightDecay: number;
}

/** What an optimizer saves: plain JSON plus one tensor per state buffer, named `${param}.${buffer}`. */
export interface OptimizerState {
  meta: OptimizerMeta;
  tensors: Map<string, Tensor>;
}

export interface OptimizerMeta {
  type: string;
  step: number;
  groups: Array<{ names: string[]; baseLr: number; lr: number; weightDecay: number }>;
  /** The optimizer's other hyperparameters (betas, momentum, ...). */
  [hyperparameter: string]: unknown;
}

export abstract class Optimizer {
  readonly groups: ResolvedGroup[];
  /** Number of step() calls so far. */
  stepCount = 0;
  private readonly buffers = new Map<Tensor, Map<string, Tensor>>();

  constructor(
    readonly type: string,
    params: readonly Tensor[] | readonly ParamGroup[],
    defaults: { lr: number; weightDecay: number },
  ) {
    const groups: ParamGroup[] = isTensorList(params) ? [{ params }] : [...params];
    let index = 0;
    const seenNames = new Set<string>();
    this.groups = groups.map((g, gi) => {
      if (g.names && g.names.length !== g.params.length) {
        throw new Error(`${type}: group ${gi} has ${g.params.length} parameters but ${g.names.length} names`);
      }
      const names = g.params.map((_, i) => g.names?.[i] ?? `param.${index + i}`);
      index += g.params.length;
      for (const [i, p] of g.params.entries()) {
        if (!p.requiresGrad) throw new Error(`${type}: parameter ${p} does not require a gradient`);
        if (seenNames.has(names[i]!)) throw new Error(`${type}: parameter name '${names[i]}' appears twice`);
        seenNames.add(names[i]!);
      }
      const lr = g.lr ?? defaults.lr;
      checkNonNegative(type, 'lr', lr);
      checkNonNegative(type, 'weightDecay', g.weightDecay ?? defaults.weightDecay);
      return { params: [...g.params], names, baseLr: lr, lr, weightDecay: g.weightDecay ?? defaults.weightDecay };
    });
  }

  /** Every parameter, in group order. */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** The first group's learning rate; setting it sets every group's lr and baseLr. */
  get lr(): number {
    return this.groups[0]?.lr ?? 0;
  }

  set lr(value: number) {
    for (const g of this.groups) g.lr = g.baseLr = value;
  }

  /** Sets each group's lr to baseLr · factor (what a schedule does every step). */
  setLrFactor(factor: number): void {
    for (const g of this.groups) g.lr = g.baseLr * factor;
  }

  /** Applies one update from each parameter's .grad (parameters without one are skipped). */
  step(): void {
    this.stepCount++;
    for (const g of this.groups) {
      for (const p of g.params) if (p.grad) this.update(p, p.grad, g);
    }
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Hyperparameters besides lr and weight decay, saved in the state dict. */
  protected abstract hyperparameters(): Record<string, unknown>;

  /** Updates one parameter in place from its gradient. */
  protected abstract update(p: Tensor, grad: Tensor, group: ResolvedGroup): void;

  /** A named state buffer of p, created zero-filled on first use. */
  protected buffer(p: Tensor, name: string): Tensor {
    let own = this.buffers.get(p);
    if (!own) this.buffers.set(p, (own = new Map()));
    let b = own.get(name);
    if (!b) {
      b = keep(Tensor.empty(p.shape, p.dtype));
      b.view().fill(0);
      own.set(name, b);
    }
    return b;
  }

  protected hasBuffer(p: Tensor, name: string): boolean {
    return this.buffers.get(p)?.has(name) ?? false;
  }

  /** The state to checkpoint: the buffers themselves (not copies) and JSON metadata. */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    for (const g of this.groups) {
      g.params.forEach((p, i) => {
        for (const [buf, t] of this.buffers.get(p) ?? []) tensors.set(`${g.names[i]}.${buf}`, t);
      });
    }
    const groups = this.groups.map((g) => ({ names: g.names, baseLr: g.baseLr, lr: g.lr, weightDecay: g.weightDecay }));
    return { meta: { type: this.type, step: this.stepCount, groups, ...this.hyperparameters() }, tensors };
  }

  /** Restores a state dict of the same optimizer type over parameters with the same names and shapes. */
  loadStateDict(state: OptimizerState): void {
    const { meta, tensors } = state;
    if (meta.type !== this.type) throw new Error(`${this.type}.loadStateDict: the state is from ${meta.type}`);
    if (meta.groups.length !== this.groups.length) {
      throw new Error(
        `${this.type}.loadStateDict: the state has ${meta.groups.length} parameter groups, this optimizer ${this.groups.length}`,
      );
    }
    const byName = new Map<string, Tensor>();
    this.groups.forEach((g, gi) => {
      const saved = meta.groups[gi]!;
      if (saved.names.join('\n') !== g.names.join('\n')) {
        const missing = g.names.filter((n) => !saved.names.includes(n));
        const extra = saved.names.filter((n) => !g.names.includes(n));
        throw new Error(
          `${this.type}.loadStateDict: group ${gi} differs: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
        );
      }
      for (const [i, p] of g.params.entries()) byName.set(g.names[i]!, p);
    });
    const loaded = new Map<Tensor, Map<string, Tensor>>();
    for (const [key, source] of tensors) {
      const dot = key.lastIndexOf('.');
      const p = byName.get(key.slice(0, dot));
      if (!p || dot < 0) throw new Error(`${this.type}.loadStateDict: state '${key}' belongs to no parameter`);
      if (formatShape(p.shape) !== formatShape(source.shape)) {
        throw new Error(
          `${this.type}.loadStateDict: '${key}' has shape ${formatShape(source.shape)}, the parameter ${formatShape(p.shape)}`,
        );
      }
      const copy = keep(Tensor.empty(p.shape, p.dtype));
      copy.view().set(source.view());
      if (!loaded.has(p)) loaded.set(p, new Map());
      loaded.get(p)!.set(key.slice(dot + 1), copy);
    }
    for (const own of this.buffers.values()) for (const t of own.values()) t.dispose();
    this.buffers.clear();
    for (const [p, own] of loaded) this.buffers.set(p, own);
    this.groups.forEach((g, gi) => {
      const saved = meta.groups[gi]!;
      g.baseLr = saved.baseLr;
      g.lr = saved.lr;
      g.weightDecay = saved.weightDecay;
    });
    this.stepCount = meta.step;
  }

  /** Frees the state buffers. */
  dispose(): void {
    for (const own of this.buffers.values()) for (const t of own.values()) t.dispose();
    this.buffers.clear();
  }
}

function isTensorList(params: readonly Tensor[] | readonly ParamGroup[]): params is readonly Tensor[] {
  return params.length === 0 || params[0] instanceof Tensor;
}

export function checkNonNegative(type: string, name: string, value: number): void {
  if (!(Number.isFinite(value) && value >= 0)) throw new Error(`${type}: ${name} must be a finite number ≥ 0, got ${value}`);
}
