// Trials as a table (Optuna's trials_dataframe): one row per trial, one column per value,
// parameter and attribute, and the same table as CSV.

import type { FrozenTrial, StudyDirection } from './frozen-trial.js';

export type Cell = string | number | boolean | null;

export interface TrialTable {
  columns: string[];
  rows: Cell[][];
}

export function trialsTable(trials: readonly FrozenTrial[], directions: readonly StudyDirection[]): TrialTable {
  const names = (pick: (t: FrozenTrial) => Record<string, unknown>) => [...new Set(trials.flatMap((t) => Object.keys(pick(t))))].sort();
  const params = names((t) => t.params);
  const user = names((t) => t.userAttrs);
  const valueCols = directions.length === 1 ? ['value'] : directions.map((_, i) => `values_${i}`);
  const columns = [
    'number',
    'state',
    ...valueCols,
    'datetime_start',
    'datetime_complete',
    'duration_s',
    ...params.map((p) => `params_${p}`),
  ];
  columns.push(...user.map((u) => `user_attrs_${u}`), 'constraints');
  const rows = trials.map((t) => {
    const duration = t.datetimeStart && t.datetimeComplete ? (t.datetimeComplete.getTime() - t.datetimeStart.getTime()) / 1000 : null;
    const c = t.systemAttrs.constraints;
    return [
      t.number,
      t.state,
      ...directions.map((_, i) => t.values?.[i] ?? null),
      t.datetimeStart?.toISOString() ?? null,
      t.datetimeComplete?.toISOString() ?? null,
      duration,
      ...params.map((p) => (p in t.params ? t.params[p]! : null)),
      ...user.map((u) => cell(t.userAttrs[u])),
      Array.isArray(c) ? JSON.stringify(c) : null,
    ];
  });
  return { columns, rows };
}

function cell(v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return JSON.stringify(v);
}

/** RFC 4180 CSV: fields with commas, quotes or newlines are quoted; empty for null. */
export function toCsv(table: TrialTable): string {
  const field = (v: Cell) => {
    if (v === null) return '';
    const s = String(v);
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [table.columns, ...table.rows].map((r) => r.map(field).join(',')).join('\n') + '\n';
}
