// The shipped DDTP corpora (data/ddtp/, see data/NOTICE) and a user's own
// pair files, read from disk (Node only). Splits were made by a hash of the
// source side, so a source sentence is in exactly one split.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type JsonlKeys, parsePairs, type TextPair } from './pairs.js';

export const DDTP_SETS = ['synopses-en-fr', 'synopses-en-de', 'sentences-en-fr', 'summaries-en'] as const;
export type DdtpSet = (typeof DDTP_SETS)[number];
export const SPLITS = ['train', 'valid', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** data/ddtp beside src/ or dist/ (both sit two levels below the package root). */
export function ddtpDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'ddtp');
}

export function ddtpPath(set: DdtpSet, split: Split): string {
  if (!DDTP_SETS.includes(set)) throw new Error(`ddtp: unknown set "${set}"; expected one of ${DDTP_SETS.join(', ')}`);
  if (!SPLITS.includes(split)) throw new Error(`ddtp: unknown split "${split}"; expected one of ${SPLITS.join(', ')}`);
  return join(ddtpDir(), `${set}.${split}.tsv.gz`);
}

export interface LoadOptions {
  /** Keep only the first `limit` pairs (the files are in a fixed order). */
  limit?: number;
}

/** Reads a TSV or JSONL pair file, gzipped or not (by the `.gz` suffix). */
export function readPairs(path: string, options: LoadOptions & { keys?: JsonlKeys } = {}): TextPair[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`readPairs: cannot read ${path}: ${(e as Error).message}`);
  }
  const text = (path.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
  const pairs = parsePairs(text, path, options.keys);
  return options.limit === undefined ? pairs : pairs.slice(0, options.limit);
}

export function loadDdtp(set: DdtpSet, split: Split, options: LoadOptions = {}): TextPair[] {
  return readPairs(ddtpPath(set, split), options);
}
