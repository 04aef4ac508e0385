// The charts of a tuning report, as Vega-Lite specifications built from a
// study's trials: optimization history, Pareto front (pairwise for three or
// more objectives), parameter importances, parallel coordinates and slices.

import type { TopLevelSpec } from 'vega-lite';
import type { Distribution, ParamValue } from '../tune/distributions.js';
import { dominates, type FrozenTrial, type StudyDirection } from '../tune/frozen-trial.js';

export interface StudyData {
  name: string;
  directions: readonly StudyDirection[];
  trials: readonly FrozenTrial[];
  /** Objective names, e.g. ['bleu', 'latency_ms']; default value 0, value 1, … */
  objectiveNames?: readonly string[];
}

type Row = Record<string, string | number | boolean | null>;

const WIDTH = 420;
const HEIGHT = 260;

export function objectiveNames(study: StudyData): string[] {
  return study.directions.map((_, i) => study.objectiveNames?.[i] ?? `value ${i}`);
}

export function completed(study: StudyData): FrozenTrial[] {
  return study.trials.filter((t) => t.state === 'COMPLETE' && t.values !== null);
}

/** Trials on the Pareto front (for one objective: the best ones). */
export function paretoFront(study: StudyData): FrozenTrial[] {
  const done = completed(study);
  return done.filter((t) => !done.some((o) => o !== t && dominates(o.values as number[], t.values as number[], study.directions)));
}

function paramText(v: ParamValue): string | number | boolean | null {
  return typeof v === 'number' ? Number(v.toPrecision(6)) : v;
}

/** One flat row per completed trial: number, each objective, each parameter. */
export function trialRows(study: StudyData): Row[] {
  const names = objectiveNames(study);
  const front = new Set(paretoFront(study));
  return completed(study).map((t) => {
    const row: Row = { trial: t.number, pareto: front.has(t) };
    names.forEach((n, i) => {
      row[n] = (t.values as number[])[i];
    });
    for (const [p, v] of Object.entries(t.params)) row[`param ${p}`] = paramText(v);
    return row;
  });
}

const tooltipOf = (rows: Row[]) => Object.keys(rows[0] ?? {}).map((field) => ({ field, type: 'nominal' as const }));

export function historyChart(study: StudyData, objective: number): TopLevelSpec {
  const name = objectiveNames(study)[objective];
  const minimize = study.directions[objective] === 'minimize';
  let best = minimize ? Infinity : -Infinity;
  const rows = completed(study).map((t) => {
    const v = (t.values as number[])[objective];
    best = minimize ? Math.min(best, v) : Math.max(best, v);
    return { trial: t.number, value: v, best };
  });
  const x = { field: 'trial', type: 'quantitative' as const, title: 'trial', axis: { tickMinStep: 1, format: 'd' } };
  return {
    title: `Optimization history: ${name} (${study.directions[objective]})`,
    width: WIDTH,
    height: HEIGHT,
    data: { values: rows },
    layer: [
      {
        mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: { x, y: { field: 'value', type: 'quantitative', title: name }, tooltip: [{ field: 'trial' }, { field: 'value' }] },
      },
      { mark: { type: 'line', interpolate: 'step-after', color: '#e15759' }, encoding: { x, y: { field: 'best', type: 'quantitative' } } },
    ],
  };
}

/** 2-D scatter per pair of objectives, front highlighted. */
export function paretoChart(study: StudyData): TopLevelSpec {
  const names = objectiveNames(study);
  const rows = trialRows(study);
  const pairs: [string, string][] = [];
  for (let i = 0; i < names.length; i++) for (let j = i + 1; j < names.length; j++) pairs.push([names[i], names[j]]);
  const scatter = ([a, b]: [string, string]) => ({
    width: pairs.length > 1 ? 300 : WIDTH,
    height: pairs.length > 1 ? 220 : HEIGHT,
    mark: { type: 'point' as const, filled: true, size: 60 },
    encoding: {
      x: { field: a, type: 'quantitative' as const, scale: { zero: false } },
      y: { field: b, type: 'quantitative' as const, scale: { zero: false } },
      color: {
        field: 'pareto',
        type: 'nominal' as const,
        title: 'Pareto front',
        scale: { domain: [true, false], range: ['#e15759', '#9da3ab'] },
      },
      tooltip: tooltipOf(rows),
    },
  });
  return pairs.length === 1
    ? { title: 'Pareto front', data: { values: rows }, ...scatter(pairs[0]) }
    : { title: 'Pareto front (each pair of objectives)', data: { values: rows }, hconcat: pairs.map(scatter) };
}

export function importanceChart(importances: Map<string, number>, objective: string): TopLevelSpec {
  const rows = [...importances].map(([param, importance]) => ({ param, importance })).sort((a, b) => b.importance - a.importance);
  return {
    title: `Parameter importances for ${objective} (fANOVA on a random forest)`,
    width: WIDTH,
    height: Math.max(60, 24 * rows.length),
    data: { values: rows },
    mark: { type: 'bar', color: '#4e79a7' },
    encoding: {
      y: { field: 'param', type: 'nominal', sort: '-x', title: null },
      x: { field: 'importance', type: 'quantitative', axis: { format: '.0%' } },
      tooltip: [{ field: 'param' }, { field: 'importance', format: '.1%' }],
    },
  };
}

function axisPosition(d: Distribution | undefined, v: ParamValue, range: [number, number]): number {
  if (d?.kind === 'categorical') return d.choices.length > 1 ? d.choices.indexOf(v) / (d.choices.length - 1) : 0.5;
  const tx = (x: number) => (d?.log ? Math.log(x) : x);
  const [lo, hi] = [tx(range[0]), tx(range[1])];
  return hi > lo ? (tx(v as number) - lo) / (hi - lo) : 0.5;
}

/** Parallel coordinates: one line per trial across the parameters and the first objective, each axis scaled to [0, 1]. */
export function parallelCoordinatesChart(study: StudyData): TopLevelSpec {
  const done = completed(study);
  const objective = objectiveNames(study)[0];
  const params = [...new Set(done.flatMap((t) => Object.keys(t.params)))];
  const rows: Row[] = [];
  const ranges = new Map<string, [number, number]>();
  for (const p of params) {
    const nums = done.map((t) => t.params[p]).filter((v): v is number => typeof v === 'number');
    ranges.set(p, [Math.min(...nums), Math.max(...nums)]);
  }
  const values = done.map((t) => (t.values as number[])[0]);
  const vRange: [number, number] = [Math.min(...values), Math.max(...values)];
  for (const t of done) {
    const value = (t.values as number[])[0];
    params.forEach((p, i) => {
      if (!(p in t.params)) return;
      const d = t.distributions[p];
      rows.push({
        trial: t.number,
        axis: p,
        order: i,
        position: axisPosition(d, t.params[p], ranges.get(p) ?? [0, 1]),
        raw: String(paramText(t.params[p])),
        [objective]: value,
      });
    });
    rows.push({
      trial: t.number,
      axis: objective,
      order: params.length,
      position: axisPosition(undefined, value, vRange),
      raw: String(paramText(value)),
      [objective]: value,
    });
  }
  return {
    title: `Parallel coordinates (colour: ${objective}; each axis scaled to its range)`,
    width: Math.max(WIDTH, 110 * (params.length + 1)),
    height: HEIGHT,
    data: { values: rows },
    mark: { type: 'line', opacity: 0.55 },
    encoding: {
      x: { field: 'axis', type: 'nominal', sort: { field: 'order' }, title: null, axis: { labelAngle: 0 } },
      y: { field: 'position', type: 'quantitative', axis: null },
      detail: { field: 'trial', type: 'nominal' },
      color: { field: objective, type: 'quantitative', scale: { scheme: 'viridis' } },
      tooltip: [{ field: 'trial' }, { field: 'axis' }, { field: 'raw', title: 'value' }],
    },
  };
}

/** One small scatter per parameter: its value against the first objective. */
export function sliceChart(study: StudyData): TopLevelSpec {
  const done = completed(study);
  const objective = objectiveNames(study)[0];
  const params = [...new Set(done.flatMap((t) => Object.keys(t.params)))];
  const panels = params.map((p) => {
    const d = done.find((t) => p in t.distributions)?.distributions[p];
    const rows = done
      .filter((t) => p in t.params)
      .map((t) => ({ trial: t.number, x: paramText(t.params[p]), y: (t.values as number[])[0] }));
    const categorical = d?.kind === 'categorical';
    const logScale = d !== undefined && d.kind !== 'categorical' && d.log;
    return {
      width: 200,
      height: 160,
      title: p,
      data: { values: rows },
      mark: { type: 'point' as const, filled: true, opacity: 0.7 },
      encoding: {
        x: categorical
          ? { field: 'x', type: 'nominal' as const, title: p }
          : { field: 'x', type: 'quantitative' as const, title: p, scale: logScale ? { type: 'log' as const } : { zero: false } },
        y: { field: 'y', type: 'quantitative' as const, title: objective, scale: { zero: false } },
        color: { field: 'trial', type: 'quantitative' as const, scale: { scheme: 'blues' } },
        tooltip: [{ field: 'trial' }, { field: 'x', title: p }, { field: 'y', title: objective }],
      },
    };
  });
  return { title: `Slices: each parameter against ${objective}`, concat: panels, columns: 3 };
}
