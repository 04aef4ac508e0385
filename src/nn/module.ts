// Module: the base of every layer and model. A module owns named parameters
// (trained), buffers (saved, not trained) and child modules; nested modules
// give dotted names ('encoder.layers.0.attention.query.weight') in a
// deterministic order: a module's own parameters, then its children's in
// registration order (PyTorch's convention).

import { noGrad } from '../autograd/tape.js';
import { zeros } from '../tensor/create.js';
import type { DType } from '../tensor/dtype.js';
import { Rng } from '../tensor/random.js';
import { keep, tidy } from '../tensor/scope.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Decides weight decay: by default no decay on bias, norm and embedding parameters. */
export type ParamKind = 'weight' | 'bias' | 'norm' | 'embedding';

/** What every layer's constructor accepts besides its config. */
export interface InitOptions {
  /** Seed of the initialisation: the same seed gives the same weights. */
  seed?: number;
  /** Parameter dtype: float32 (default) or float64 for finite-difference checks on the js backend. */
  dtype?: DType;
}

/** A stream of child seeds from one seed, so composite modules initialise deterministically. */
export function seedSequence(seed: number | undefined): () => number {
  const rng = new Rng(seed ?? Math.floor(Math.random() * 2 ** 32));
  return () => rng.nextU32();
}

export interface LoadStateDictOptions {
  /** Refuse missing and unexpected entries (default true). Mis-shaped entries are always refused. */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** An input for summary(): a shape (float32 zeros are fed) or a tensor used as given. */
export type SummaryInput = Shape | Tensor;

const NAME = /^[A-Za-z_0-9]+$/;

export abstract class Module {
  /** Dropout and similar layers act only while training; true by default. */
  training = true;
  private readonly ownParameters = new Map<string, { tensor: Tensor; kind: ParamKind }>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  abstract forward(...args: never[]): unknown;

  /** Registers a trained tensor: marks it requiresGrad and keeps it out of every tidy scope. */
  protected registerParameter(name: string, t: Tensor, kind: ParamKind = 'weight'): Tensor {
    this.checkName(name, 'parameter');
    if (t.dtype !== 'float32' && t.dtype !== 'float64') {
      throw new Error(`${this.constructor.name}: parameter '${name}' must be float32 or float64, got ${t.dtype}`);
    }
    keep(t).setRequiresGrad(true);
    this.ownParameters.set(name, { tensor: t, kind });
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name, 'module');
    this.children.set(name, m);
    return m;
  }

  /** Registers a saved, untrained tensor (kept out of tidy scopes). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name, 'buffer');
    this.ownBuffers.set(name, keep(t));
    return t;
  }

  /** Parameters by dotted name; a tensor shared by two modules appears once, under its first name. */
  namedParameters(): Array<[string, Tensor]> {
    const seen = new Set<Tensor>();
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, { tensor }] of m.ownParameters) {
        if (seen.has(tensor)) continue;
        seen.add(tensor);
        out.push([join(prefix, name), tensor]);
      }
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Each parameter's kind, by dotted name. */
  parameterKinds(): Map<string, ParamKind> {
    const kinds = new Map<string, ParamKind>();
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, { tensor, kind }] of m.ownParameters) {
        if (seen.has(tensor)) continue;
        seen.add(tensor);
        kinds.set(join(prefix, name), kind);
      }
    }
    return kinds;
  }

  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) for (const [name, t] of m.ownBuffers) out.push([join(prefix, name), t]);
    return out;
  }

  /** This module (name '') and every descendant, depth first, by dotted name. */
  namedModules(): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    const visit = (prefix: string, m: Module): void => {
      out.push([prefix, m]);
      for (const [name, child] of m.children) visit(join(prefix, name), child);
    };
    visit('', this);
    return out;
  }

  /** Direct children by name. */
  namedChildren(): Array<[string, Module]> {
    return [...this.children];
  }

  train(on = true): this {
    for (const [, m] of this.namedModules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values into this module's parameters and buffers. Strict (default):
   * any missing or unexpected entry is an error; a mis-shaped entry always is.
   * The error names every offending entry at once. Nothing is copied when it throws.
   */
  loadStateDict(state: Map<string, Tensor> | Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const given = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !given.has(k));
    const unexpectedKeys = [...given.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [name, target] of own) {
      const source = given.get(name);
      if (!source) continue;
      if (formatShape(source.shape) !== formatShape(target.shape)) {
        problems.push(`'${name}' has shape ${formatShape(source.shape)}, the model expects ${formatShape(target.shape)}`);
      } else if ((source.dtype === 'bool') !== (target.dtype === 'bool') || (source.dtype === 'int32') !== (target.dtype === 'int32')) {
        problems.push(`'${name}' is ${source.dtype}, the model expects ${target.dtype}`);
      }
    }
    if (strict && missingKeys.length > 0) problems.push(`missing: ${missingKeys.map((k) => `'${k}'`).join(', ')}`);
    if (strict && unexpectedKeys.length > 0) problems.push(`unexpected: ${unexpectedKeys.map((k) => `'${k}'`).join(', ')}`);
    if (problems.length > 0) throw new Error(`loadStateDict (${this.constructor.name}): ${problems.join('; ')}`);
    for (const [name, target] of own) {
      const source = given.get(name);
      if (source && source !== target) target.view().set(source.view());
    }
    return { missingKeys, unexpectedKeys };
  }

  /** Number of trained scalars (shared tensors counted once). */
  numParameters(): number {
    let n = 0;
    for (const [, t] of this.namedParameters()) n += t.size;
    return n;
  }

  /**
   * The layer tree with output shapes and parameter counts, like Keras's
   * model.summary(). With inputs, the model runs once (no gradients) to
   * record each module's output shape.
   */
  summary(inputs?: readonly SummaryInput[]): string {
    const shapes = inputs ? this.traceOutputShapes(inputs) : new Map<Module, string>();
    const rows: [string, string, string][] = [['Layer (type)', 'Output Shape', 'Param #']];
    const visit = (name: string, m: Module, depth: number): void => {
      let own = 0;
      for (const [, { tensor }] of m.ownParameters) own += tensor.size;
      const total = depth === 0 ? this.numParameters() : m.numParameters();
      const label = `${'  '.repeat(depth)}${name === '' ? '' : `${name} `}(${m.constructor.name})`;
      rows.push([
        label,
        shapes.get(m) ?? (m instanceof ModuleList ? '' : inputs ? '(not called)' : '?'),
        String(m.children.size === 0 ? own : total),
      ]);
      for (const [childName, child] of m.children) visit(childName, child, depth + 1);
    };
    visit('', this, 0);
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: [string, string, string]) => `${r[0].padEnd(widths[0]!)}  ${r[1].padEnd(widths[1]!)}  ${r[2].padStart(widths[2]!)}`;
    const rule = '='.repeat(widths[0]! + widths[1]! + widths[2]! + 4);
    const trainable = this.numParameters();
    let bufferCount = 0;
    for (const [, t] of this.namedBuffers()) bufferCount += t.size;
    return [
      `Model: ${this.constructor.name}`,
      rule,
      line(rows[0]!),
      rule,
      ...rows.slice(1).map(line),
      rule,
      `Total params: ${(trainable + bufferCount).toLocaleString('en-US')}`,
      `Trainable params: ${trainable.toLocaleString('en-US')}`,
      `Non-trainable params: ${bufferCount.toLocaleString('en-US')}`,
    ].join('\n');
  }

  /** Frees every parameter and buffer of this module and its descendants (children's own dispose() included). */
  dispose(): void {
    for (const { tensor } of this.ownParameters.values()) {
      tensor.grad?.dispose();
      tensor.dispose();
    }
    for (const t of this.ownBuffers.values()) t.dispose();
    for (const child of this.children.values()) child.dispose();
  }

  private traceOutputShapes(inputs: readonly SummaryInput[]): Map<Module, string> {
    const shapes = new Map<Module, string>();
    const restore: Array<() => void> = [];
    for (const [, m] of this.namedModules()) {
      const original = m.forward;
      const wrapped = (...args: never[]): unknown => {
        const result = original.apply(m, args);
        if (!shapes.has(m)) shapes.set(m, describeOutput(result));
        return result;
      };
      (m as { forward: (...args: never[]) => unknown }).forward = wrapped;
      restore.push(() => {
        delete (m as { forward?: unknown }).forward;
      });
    }
    const wasTraining = this.training;
    this.eval();
    try {
      tidy(() =>
        noGrad(() => {
          const args = inputs.map((x) => (x instanceof Tensor ? x : zeros(x, this.parameters()[0]?.dtype ?? 'float32')));
          this.forward(...(args as never[]));
        }),
      );
    } finally {
      for (const r of restore) r();
      this.train(wasTraining);
    }
    return shapes;
  }

  private checkName(name: string, what: string): void {
    if (!NAME.test(name)) throw new Error(`${this.constructor.name}: ${what} name '${name}' must be letters, digits or '_' (no dots)`);
    if (this.ownParameters.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered`);
    }
  }
}

/** An indexed list of modules (names '0', '1', ...), like PyTorch's ModuleList. */
export class ModuleList<M extends Module> extends Module {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }

  get length(): number {
    return this.items.length;
  }

  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new Error(`ModuleList: index ${i} is out of range for ${this.items.length} modules`);
    return m;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  forward(): never {
    throw new Error('ModuleList: has no forward of its own; call its modules');
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function describeOutput(value: unknown): string {
  if (value instanceof Tensor) return formatShape(value.shape);
  if (Array.isArray(value)) return value.map(describeOutput).join(', ');
  if (value && typeof value === 'object') {
    const first = (value as { output?: unknown }).output ?? Object.values(value).find((v) => v instanceof Tensor);
    if (first !== undefined) return describeOutput(first);
  }
  return '-';
}
