import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadDdtp } from '../../../src/data/ddtp.ts';

const main = join(import.meta.dirname, '..', '..', '..', 'src', 'cli', 'main.ts');
const attune = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', input, timeout: 120_000 });

test('attune train translation on user TSV pairs, then attune translate with --json and --alignment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-translate-'));
  const pairs = loadDdtp('synopses-en-fr', 'train', { limit: 300 });
  const tsv = (rows: typeof pairs) => rows.map((p) => `${p.source}\t${p.target}\n`).join('');
  writeFileSync(join(dir, 'train.tsv'), tsv(pairs.slice(0, 260)));
  writeFileSync(join(dir, 'valid.tsv'), tsv(pairs.slice(260, 280)));
  writeFileSync(join(dir, 'test.tsv'), tsv(pairs.slice(280)));
  const out = join(dir, 'run');
  const common = [
    '--vocab',
    '400',
    '--dim',
    '32',
    '--heads',
    '2',
    '--encoder-layers',
    '1',
    '--decoder-layers',
    '1',
    '--ffn',
    '64',
    '--threads',
    '1',
  ];
  const trained = attune([
    'train',
    'translation',
    ...['--train', join(dir, 'train.tsv'), '--valid', join(dir, 'valid.tsv'), '--test', join(dir, 'test.tsv')],
    ...['--steps', '6', '--batch-size', '16', '--beam', '2', '--out', out, '--json'],
    ...common,
  ]);
  assert.equal(trained.status, 0, trained.stderr);
  const result = JSON.parse(trained.stdout.trim().split('\n').at(-1)!);
  assert.equal(result.task, 'translation');
  assert.equal(result.metric, 'bleu');
  assert.equal(result.steps, 6);
  assert.equal(result.testPairs, 20);
  assert.ok(result.test >= 0 && result.test <= 100 && result.baselines.copySource > 0);
  assert.ok(existsSync(join(out, 'last.safetensors')) && existsSync(join(out, 'tokenizer.json')) && existsSync(join(out, 'metrics.jsonl')));

  const translated = attune([
    'translate',
    join(out, 'last.safetensors'),
    'free software game',
    '2D physics engine',
    '--json',
    '--alignment',
    '--beam',
    '2',
    '--max-length',
    '6',
  ]);
  assert.equal(translated.status, 0, translated.stderr);
  const lines = translated.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.equal(lines[1].input, '2D physics engine');
  const { weights, sourcePieces, targetPieces } = lines[0].alignment;
  assert.equal(weights.length, targetPieces.length);
  assert.equal(sourcePieces.join(''), 'free software game</s>');
  for (const row of weights) {
    assert.equal(row.length, sourcePieces.length);
    assert.ok(Math.abs(row.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-4);
  }
  const table = attune(['translate', join(out, 'last.safetensors'), '--alignment', '--beam', '1', '--max-length', '3'], 'hello world\n');
  assert.equal(table.status, 0, table.stderr);
  assert.match(table.stdout, /^target +│ .*<\/s>$/m);
});

test('usage errors: malformed user pairs name the file and line; a missing checkpoint exits 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-translate-bad-'));
  writeFileSync(join(dir, 'train.tsv'), 'hello\tbonjour\nno tab here\n');
  writeFileSync(join(dir, 'valid.jsonl'), '{"source":"a","target":"b"}\n');
  const bad = attune([
    'train',
    'translation',
    '--train',
    join(dir, 'train.tsv'),
    '--valid',
    join(dir, 'valid.jsonl'),
    '--test',
    join(dir, 'valid.jsonl'),
    '--steps',
    '1',
  ]);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /train\.tsv:2: expected 2 tab-separated fields \(source, target\), got 1/);
  const missing = attune(['translate', join(dir, 'nope.safetensors'), 'x']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /attune translate: checkpoint .*nope\.safetensors does not exist/);
  const noValid = attune(['train', 'summarization', '--train', join(dir, 'train.tsv')]);
  assert.equal(noValid.status, 2);
  assert.match(noValid.stderr, /with --train, give --valid and --test too \(--valid is missing\)/);
  const badBeam = attune(['translate', join(dir, 'train.tsv'), 'x', '--beam', '0']);
  assert.equal(badBeam.status, 2);
  assert.match(badBeam.stderr, /--beam must be an integer ≥ 1 and ≤ 64, got '0'/);
});
