// Benchmark problems for the samplers, written identically in bench/optuna_peer.py (the bench
// checks both give the same values on the same points before it runs).
//   branin (2 floats, min 0.397887), hartmann6 (6 floats in [0, 1], min −3.32237),
//   mixed6 (int, log float, log int, stepped float, categorical, stepped int; min 0),
//   cond6 (a conditional space: optimizer sgd | adam, each with its own learning rate and
//     momentum / beta1, plus layers and dropout; min 0 with sgd),
//   zdt1 / zdt2 (30 floats in [0, 1], two objectives to minimize).
// Held out (not in the bench's default list, not used to choose TPE's defaults):
//   rosenbrock2 (2 floats in [−5, 10], a curved valley, min 0 at (1, 1)),
//   styblinski5 (5 floats in [−5, 5], many local minima, min −39.16617·5 at xᵢ = −2.903534).

import type { Distribution, ParamValue } from '../src/tune/distributions.js';

export interface Problem {
  name: string;
  directions: ('minimize' | 'maximize')[];
  space: Record<string, Distribution>;
  evaluate(params: Record<string, ParamValue>): number[];
  /** define-by-run parameters for conditional spaces (default: every parameter of `space`) */
  suggest?: (ask: (name: string, d: Distribution) => ParamValue) => Record<string, ParamValue>;
}

const float = (low: number, high: number, log = false, step: number | null = null): Distribution => ({
  kind: 'float',
  low,
  high,
  log,
  step,
});
const int = (low: number, high: number, log = false, step = 1): Distribution => ({ kind: 'int', low, high, log, step });

export const branin: Problem = {
  name: 'branin',
  directions: ['minimize'],
  space: { x1: float(-5, 10), x2: float(0, 15) },
  evaluate: (p) => {
    const x1 = p.x1 as number;
    const x2 = p.x2 as number;
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    return [(x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10];
  },
};

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];

export const hartmann6: Problem = {
  name: 'hartmann6',
  directions: ['minimize'],
  space: Object.fromEntries(Array.from({ length: 6 }, (_, i) => [`x${i}`, float(0, 1)])),
  evaluate: (p) => {
    let y = 0;
    for (let i = 0; i < 4; i++) {
      let inner = 0;
      for (let j = 0; j < 6; j++) inner += H_A[i]![j]! * ((p[`x${j}`] as number) - H_P[i]![j]! * 1e-4) ** 2;
      y -= H_ALPHA[i]! * Math.exp(-inner);
    }
    return [y];
  },
};

const ACTIVATION_COST: Record<string, number> = { relu: 0.5, gelu: 0, tanh: 1, sigmoid: 2 };

export const mixed6: Problem = {
  name: 'mixed6',
  directions: ['minimize'],
  space: {
    layers: int(1, 8),
    lr: float(1e-5, 1e-1, true),
    batch: int(16, 512, true),
    dropout: float(0, 0.5, false, 0.05),
    activation: { kind: 'categorical', choices: ['relu', 'gelu', 'tanh', 'sigmoid'] },
    width: int(32, 512, false, 32),
  },
  evaluate: (p) => {
    const lr = p.lr as number;
    return [
      (Math.log10(lr) + 3) ** 2 +
        ((p.layers as number) - 4) ** 2 / 4 +
        (Math.log2(p.batch as number) - 6) ** 2 / 4 +
        10 * ((p.dropout as number) - 0.2) ** 2 +
        ACTIVATION_COST[p.activation as string]! +
        (((p.width as number) - 256) / 128) ** 2,
    ];
  },
};

const COND6_SPACE: Record<string, Distribution> = {
  optimizer: { kind: 'categorical', choices: ['sgd', 'adam'] },
  sgd_lr: float(1e-4, 1, true),
  momentum: float(0, 0.99),
  adam_lr: float(1e-5, 1e-1, true),
  beta1: float(0.5, 0.999),
  layers: int(1, 8),
  dropout: float(0, 0.5),
};

export const cond6: Problem = {
  name: 'cond6',
  directions: ['minimize'],
  space: COND6_SPACE,
  suggest: (ask) => {
    const p: Record<string, ParamValue> = { optimizer: ask('optimizer', COND6_SPACE.optimizer!) };
    const names = p.optimizer === 'sgd' ? ['sgd_lr', 'momentum'] : ['adam_lr', 'beta1'];
    for (const n of [...names, 'layers', 'dropout']) p[n] = ask(n, COND6_SPACE[n]!);
    return p;
  },
  evaluate: (p) => {
    const common = ((p.layers as number) - 3) ** 2 / 4 + 10 * ((p.dropout as number) - 0.1) ** 2;
    if (p.optimizer === 'sgd') return [common + (Math.log10(p.sgd_lr as number) + 1.5) ** 2 + 4 * ((p.momentum as number) - 0.9) ** 2];
    return [common + 0.2 + (Math.log10(p.adam_lr as number) + 3.5) ** 2 / 2 + 10 * ((p.beta1 as number) - 0.9) ** 2];
  },
};

export const rosenbrock2: Problem = {
  name: 'rosenbrock2',
  directions: ['minimize'],
  space: { x0: float(-5, 10), x1: float(-5, 10) },
  evaluate: (p) => {
    const x0 = p.x0 as number;
    const x1 = p.x1 as number;
    return [100 * (x1 - x0 ** 2) ** 2 + (1 - x0) ** 2];
  },
};

export const styblinski5: Problem = {
  name: 'styblinski5',
  directions: ['minimize'],
  space: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`x${i}`, float(-5, 5)])),
  evaluate: (p) => {
    let y = 0;
    for (let i = 0; i < 5; i++) {
      const x = p[`x${i}`] as number;
      y += (x ** 4 - 16 * x ** 2 + 5 * x) / 2;
    }
    return [y];
  },
};

function zdt(name: string, shape: (f1: number, g: number) => number): Problem {
  const d = 30;
  return {
    name,
    directions: ['minimize', 'minimize'],
    space: Object.fromEntries(Array.from({ length: d }, (_, i) => [`x${i}`, float(0, 1)])),
    evaluate: (p) => {
      const x = Array.from({ length: d }, (_, i) => p[`x${i}`] as number);
      let s = 0;
      for (let i = 1; i < d; i++) s += x[i]!;
      const g = 1 + (9 * s) / (d - 1);
      return [x[0]!, g * shape(x[0]!, g)];
    },
  };
}

export const zdt1 = zdt('zdt1', (f1, g) => 1 - Math.sqrt(f1 / g));
export const zdt2 = zdt('zdt2', (f1, g) => 1 - (f1 / g) ** 2);

/** Hypervolume reference point for ZDT after 500 evaluations (f2 is still far above the front). */
export const ZDT_REFERENCE: [number, number] = [1.1, 11];

export const PROBLEMS: Record<string, Problem> = { branin, hartmann6, mixed6, cond6, rosenbrock2, styblinski5, zdt1, zdt2 };
