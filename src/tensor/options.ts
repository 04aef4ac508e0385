// The one check of an options object that every op and constructor runs: a
// misspelt key ({ casual: true }) is an error naming it and the known keys,
// never silently ignored. The known keys come from a literal typed against
// the options interface, so the list cannot drift from the type.

/** Every key of T, each mapped to true: `optionKeys<AttentionOptions>({ scale: true, ... })` fails to compile if one is missing or extra. */
export type OptionKeys<T> = { readonly [K in keyof Required<T>]: true };

export function optionKeys<T>(keys: OptionKeys<T>): readonly string[] {
  return Object.keys(keys);
}

/** Levenshtein distance, for the "did you mean" hint. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
    }
    previous = current;
  }
  return previous[b.length];
}

/**
 * Throws when `options` is not a plain object or has a key outside `known`:
 * `attention: unknown option 'casual' (did you mean 'causal'?); known options: scale, mask, causal, ...`.
 * undefined (no options) passes.
 */
export function checkOptions(where: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const given = options === null ? 'null' : Array.isArray(options) ? 'an array' : `${typeof options} ${String(options)}`;
    throw new Error(`${where}: options must be an object with keys among ${known.join(', ')}; got ${given}`);
  }
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const closest = known.reduce<[string, number]>(
      (best, k) => {
        const d = editDistance(key, k);
        return d < best[1] ? [k, d] : best;
      },
      ['', Number.POSITIVE_INFINITY],
    );
    const hint = closest[1] <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean '${closest[0]}'?)` : '';
    throw new Error(`${where}: unknown option '${key}'${hint}; known options: ${known.join(', ')}`);
  }
}
