// Search spaces as data: a name -> distribution table, in order, where a parameter may apply
// only when earlier ones have given values (`when`), so conditional spaces need no code. Presets
// live in spaces/; users pass their own as a JSON file or a TS/JS module (default export).

import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Distribution, type ParamValue, validateDistribution } from './distributions.js';
import type { Trial } from './trial.js';

export interface SpaceParam {
  distribution: Distribution;
  /** sample this parameter only when each named earlier parameter took one of the listed values */
  when?: Record<string, readonly ParamValue[]>;
}

export interface SearchSpace {
  name: string;
  params: Record<string, SpaceParam>;
}

/** Samples every parameter that applies, in the order of the table. */
export function suggestSpace(trial: Trial, space: SearchSpace): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  for (const [name, p] of Object.entries(space.params)) {
    if (p.when && !Object.entries(p.when).every(([k, vs]) => k in out && vs.includes(out[k]!))) continue;
    out[name] = trial.suggest(name, p.distribution);
  }
  return out;
}

const KINDS = ['float', 'int', 'categorical'];

/**
 * Checks a space read from a file and fills defaults. Each entry is
 * `{ "kind": "float"|"int"|"categorical", low, high, log?, step?, choices?, when? }`
 * (`type` is accepted for `kind`). Errors name the file, the parameter and the problem.
 */
export function parseSearchSpace(raw: unknown, where: string): SearchSpace {
  const fail = (what: string): never => {
    throw new Error(`search space ${where}: ${what}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(`expected an object of parameters, got ${JSON.stringify(raw)}`);
  const obj = raw as Record<string, unknown>;
  const table = (obj.params && typeof obj.params === 'object' ? obj.params : obj) as Record<string, unknown>;
  const name = typeof obj.name === 'string' ? obj.name : where;
  const params: Record<string, SpaceParam> = {};
  const seen: string[] = [];
  for (const [key, entry] of Object.entries(table)) {
    if (key === 'name' && table === obj) continue;
    if (entry === null || typeof entry !== 'object') fail(`parameter '${key}': expected an object, got ${JSON.stringify(entry)}`);
    const e = entry as Record<string, unknown>;
    const source = (e.distribution ?? e) as Record<string, unknown>;
    const kind = source.kind ?? source.type;
    if (typeof kind !== 'string' || !KINDS.includes(kind))
      fail(`parameter '${key}': kind must be one of ${KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    let d: Distribution;
    if (kind === 'categorical') d = { kind, choices: source.choices as ParamValue[] };
    else {
      const low = source.low as number;
      const high = source.high as number;
      const log = (source.log ?? false) as boolean;
      d =
        kind === 'int'
          ? { kind, low, high, log, step: (source.step ?? 1) as number }
          : { kind: 'float', low, high, log, step: (source.step ?? null) as number | null };
      for (const f of ['low', 'high'] as const)
        if (typeof source[f] !== 'number') fail(`parameter '${key}': ${f} must be a number, got ${JSON.stringify(source[f])}`);
    }
    try {
      validateDistribution(key, d);
    } catch (err) {
      fail((err as Error).message);
    }
    const when = e.when as Record<string, unknown> | undefined;
    if (when !== undefined) {
      if (when === null || typeof when !== 'object') fail(`parameter '${key}': when must map earlier parameters to lists of values`);
      for (const [k, vs] of Object.entries(when)) {
        if (!seen.includes(k))
          fail(`parameter '${key}': when refers to '${k}', which is not an earlier parameter (earlier: ${seen.join(', ') || 'none'})`);
        if (!Array.isArray(vs)) fail(`parameter '${key}': when.${k} must be a list of values, got ${JSON.stringify(vs)}`);
      }
    }
    params[key] = when ? { distribution: d, when: when as Record<string, ParamValue[]> } : { distribution: d };
    seen.push(key);
  }
  if (seen.length === 0) fail('it has no parameters');
  return { name, params };
}

/** Loads a space from a .json file or a .ts/.js/.mjs module whose default export (or `space`) is one. */
export async function loadSearchSpace(path: string): Promise<SearchSpace> {
  const ext = extname(path);
  if (ext === '.json') {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`search space ${path}: ${(e as Error).message}`);
    }
    return parseSearchSpace(raw, path);
  }
  if (!['.ts', '.js', '.mjs', '.mts'].includes(ext))
    throw new Error(`search space ${path}: expected a .json, .ts or .js file, got '${ext || 'no extension'}'`);
  const mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown; space?: unknown };
  return parseSearchSpace(mod.default ?? mod.space, path);
}
