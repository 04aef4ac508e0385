// Sentence pairs (source -> target) as TSV or JSONL text: the shipped DDTP
// splits and a user's own data. Parsing is pure (runs in the browser); a
// malformed record is an error that names the file and the line.

export interface TextPair {
  source: string;
  target: string;
}

export interface JsonlKeys {
  /** Field holding the source text (default 'source'). */
  source?: string;
  /** Field holding the target text (default 'target'). */
  target?: string;
}

function lines(text: string): string[] {
  const out = text.split('\n');
  if (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** `source<TAB>target` per line; blank lines are skipped. */
export function parseTsvPairs(text: string, file = '<tsv>'): TextPair[] {
  const pairs: TextPair[] = [];
  const rows = lines(text);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.trim() === '') continue;
    const fields = row.split('\t');
    if (fields.length !== 2) {
      throw new Error(`${file}:${i + 1}: expected 2 tab-separated fields (source, target), got ${fields.length}`);
    }
    const [source, target] = fields;
    if (source.trim() === '' || target.trim() === '') {
      throw new Error(
        `${file}:${i + 1}: expected non-empty source and target, got ${source.trim() === '' ? 'an empty source' : 'an empty target'}`,
      );
    }
    pairs.push({ source, target });
  }
  return pairs;
}

/** One JSON object per line with string fields `source` and `target` (or the given keys). */
export function parseJsonlPairs(text: string, file = '<jsonl>', keys: JsonlKeys = {}): TextPair[] {
  const sourceKey = keys.source ?? 'source';
  const targetKey = keys.target ?? 'target';
  const pairs: TextPair[] = [];
  const rows = lines(text);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (row.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(row);
    } catch (e) {
      throw new Error(`${file}:${i + 1}: expected a JSON object, got invalid JSON (${(e as Error).message})`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new Error(`${file}:${i + 1}: expected a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}`);
    }
    const fields = record as Record<string, unknown>;
    for (const key of [sourceKey, targetKey]) {
      const value = fields[key];
      if (typeof value !== 'string' || value.trim() === '') {
        const got = value === undefined ? 'no such field' : typeof value === 'string' ? 'an empty string' : `a ${typeof value}`;
        throw new Error(`${file}:${i + 1}: expected a non-empty string field "${key}", got ${got}`);
      }
    }
    pairs.push({ source: fields[sourceKey] as string, target: fields[targetKey] as string });
  }
  return pairs;
}

/** Parses by file name: `.jsonl` (optionally `.gz`-stripped by the caller) or TSV otherwise. */
export function parsePairs(text: string, file: string, keys?: JsonlKeys): TextPair[] {
  const name = file.replace(/\.gz$/, '');
  return /\.(jsonl|ndjson)$/i.test(name) ? parseJsonlPairs(text, file, keys) : parseTsvPairs(text, file);
}
