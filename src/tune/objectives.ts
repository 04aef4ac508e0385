// What a tuning study optimises and what it must respect: metric names with their directions
// (`--objectives accuracy,latency`) and constraints such as "latency<=5" (ms) or "params<=2e5",
// turned into Optuna-style constraint values (<= 0 feasible) over a trial's measured metrics.

import type { FrozenTrial, StudyDirection } from './frozen-trial.js';
import type { ConstraintsFunc } from './samplers/base.js';

/** Every metric a task objective measures; quality metrics depend on the task. */
export const METRICS: Record<string, { direction: StudyDirection; unit: string; help: string }> = {
  accuracy: { direction: 'maximize', unit: '', help: 'validation accuracy (image)' },
  bleu: { direction: 'maximize', unit: '', help: 'validation BLEU (translation)' },
  rougeL: { direction: 'maximize', unit: '', help: 'validation ROUGE-L (summarization)' },
  latency: { direction: 'minimize', unit: 'ms', help: 'measured inference time per item on this machine' },
  memory: { direction: 'minimize', unit: 'bytes', help: 'peak tensor memory of one inference' },
  params: { direction: 'minimize', unit: '', help: 'parameter count' },
  attentionParams: { direction: 'minimize', unit: '', help: 'parameters of the attention layers (query, key, value, output)' },
};

/** Where a trial keeps its measured metrics. */
export const METRICS_ATTR = 'metrics';

export function parseObjectives(list: string, available: readonly string[]): { names: string[]; directions: StudyDirection[] } {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`objectives: expected a comma-separated list of ${available.join(', ')}, got '${list}'`);
  for (const n of names) {
    if (!available.includes(n)) throw new Error(`objectives: unknown metric '${n}' for this task; expected one of ${available.join(', ')}`);
  }
  if (new Set(names).size !== names.length) throw new Error(`objectives: '${list}' names a metric twice`);
  return { names, directions: names.map((n) => METRICS[n]!.direction) };
}

export interface Constraint {
  metric: string;
  op: '<=' | '>=';
  bound: number;
}

const UNITS: Record<string, number> = { '': 1, ms: 1, s: 1000, us: 1e-3, k: 1e3, m: 1e6, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** "latency<=5ms", "params <= 200k", "accuracy>=0.8", "memory<=64MB". */
export function parseConstraint(text: string, available: readonly string[]): Constraint {
  const m = /^\s*([A-Za-z]+)\s*(<=|>=)\s*([0-9.eE+-]+)\s*([A-Za-z]*)\s*$/.exec(text);
  if (!m) throw new Error(`constraint: expected METRIC<=VALUE or METRIC>=VALUE (e.g. latency<=5ms), got '${text}'`);
  const [, metric, op, num, unitRaw] = m as unknown as [string, string, '<=' | '>=', string, string];
  if (!available.includes(metric))
    throw new Error(`constraint '${text}': unknown metric '${metric}'; expected one of ${available.join(', ')}`);
  const unit = unitRaw.toLowerCase();
  if (!(unit in UNITS)) throw new Error(`constraint '${text}': unknown unit '${unitRaw}'; expected one of ms, s, us, k, M, KB, MB, GB`);
  const bound = Number(num) * UNITS[unit]!;
  if (!Number.isFinite(bound)) throw new Error(`constraint '${text}': '${num}' is not a number`);
  return { metric, op, bound };
}

/** How far v lies past the constraint's bound: > 0 broken, <= 0 met (Optuna's constraint value). */
function violation(c: Constraint, v: number): number {
  return c.op === '<=' ? v - c.bound : c.bound - v;
}

/** "attentionParams<=33280", "latency<=0.3567" (whole bounds exact, others to 4 digits). */
export function formatConstraint(c: Constraint): string {
  return `${c.metric}${c.op}${Number.isInteger(c.bound) ? c.bound : Number(c.bound.toPrecision(4))}`;
}

/** Constraint values (<= 0 feasible) from a trial's stored metrics; a missing metric is infeasible. */
export function constraintsFunc(constraints: readonly Constraint[]): ConstraintsFunc {
  return (t: FrozenTrial) => {
    const metrics = (t.userAttrs[METRICS_ATTR] ?? {}) as Record<string, number>;
    return constraints.map((c) => {
      const v = metrics[c.metric];
      if (typeof v !== 'number' || Number.isNaN(v)) return Number.MAX_VALUE; // JSON has no Infinity
      return violation(c, v);
    });
  };
}

/** The constraints among `constraints` whose metric `metrics` holds and breaks, as text ("latency<=5 (got 6.2)"). */
export function brokenConstraints(constraints: readonly Constraint[], metrics: Record<string, number>): string[] {
  return constraints
    .filter((c) => typeof metrics[c.metric] === 'number' && violation(c, metrics[c.metric]!) > 0)
    .map((c) => `${formatConstraint(c)} (got ${Number(metrics[c.metric]!.toPrecision(4))})`);
}
