import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DDTP_SETS, loadDdtp, readPairs } from '../../src/data/ddtp.ts';
import { parseJsonlPairs, parseTsvPairs } from '../../src/data/pairs.ts';

test('every DDTP set has train/valid/test with no source and no target of valid/test in train', () => {
  for (const set of DDTP_SETS) {
    const train = loadDdtp(set, 'train');
    const valid = loadDdtp(set, 'valid');
    const testSplit = loadDdtp(set, 'test');
    assert.ok(
      train.length > 5000 && valid.length > 300 && testSplit.length > 300,
      `${set}: ${train.length}/${valid.length}/${testSplit.length}`,
    );
    const trainSources = new Set(train.map((p) => p.source));
    const trainTargets = new Set(train.map((p) => p.target));
    const validSources = new Set(valid.map((p) => p.source));
    assert.equal(trainSources.size, train.length, `${set}: duplicate sources in train`);
    for (const p of [...valid, ...testSplit]) {
      assert.ok(!trainSources.has(p.source), `${set}: source in two splits: ${p.source}`);
      assert.ok(!trainTargets.has(p.target), `${set}: target of valid/test in train: ${p.target}`);
    }
    for (const p of testSplit) assert.ok(!validSources.has(p.source), `${set}: source in valid and test`);
    for (const p of train.slice(0, 2000)) {
      assert.ok(
        !/\s{2}|^\s|\s$/.test(p.source) && !/\s{2}|^\s|\s$/.test(p.target),
        `${set}: whitespace not normalised: ${JSON.stringify(p)}`,
      );
    }
  }
});

test('the summarization set pairs a long description with a shorter synopsis', () => {
  for (const p of loadDdtp('summaries-en', 'valid', { limit: 500 })) {
    assert.ok(p.source.split(' ').length >= 25 && p.target.split(' ').length <= 16);
  }
});

test('TSV reader: good rows, CRLF, blank lines; malformed rows name file and line', () => {
  assert.deepEqual(parseTsvPairs('a\tb\r\n\nc d\te f\n', 'x.tsv'), [
    { source: 'a', target: 'b' },
    { source: 'c d', target: 'e f' },
  ]);
  assert.throws(
    () => parseTsvPairs('a\tb\nonly one field\n', 'my.tsv'),
    /^Error: my\.tsv:2: expected 2 tab-separated fields \(source, target\), got 1$/,
  );
  assert.throws(() => parseTsvPairs('a\tb\tc\n', 'my.tsv'), /my\.tsv:1: expected 2 tab-separated fields \(source, target\), got 3/);
  assert.throws(() => parseTsvPairs('a\tb\n\n \tb\n', 'my.tsv'), /my\.tsv:3: expected non-empty source and target, got an empty source/);
});

test('JSONL reader: good records, custom keys; malformed records name file and line', () => {
  assert.deepEqual(parseJsonlPairs('{"source":"a","target":"b"}\n\n{"source":"c","target":"d","id":3}\n', 'p.jsonl'), [
    { source: 'a', target: 'b' },
    { source: 'c', target: 'd' },
  ]);
  assert.deepEqual(parseJsonlPairs('{"en":"a","fr":"b"}', 'p.jsonl', { source: 'en', target: 'fr' }), [{ source: 'a', target: 'b' }]);
  assert.throws(
    () => parseJsonlPairs('{"source":"a","target":"b"}\n{"source": "a",', 'p.jsonl'),
    /^Error: p\.jsonl:2: expected a JSON object, got invalid JSON/,
  );
  assert.throws(() => parseJsonlPairs('[1,2]', 'p.jsonl'), /p\.jsonl:1: expected a JSON object, got an array/);
  assert.throws(
    () => parseJsonlPairs('{"source":"a"}', 'p.jsonl'),
    /p\.jsonl:1: expected a non-empty string field "target", got no such field/,
  );
  assert.throws(
    () => parseJsonlPairs('{"source":"a","target":7}', 'p.jsonl'),
    /p\.jsonl:1: expected a non-empty string field "target", got a number/,
  );
});

test('readPairs reads TSV and gzipped JSONL files by name and reports the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'attune-pairs-'));
  writeFileSync(join(dir, 'a.tsv'), 'hello\tbonjour\n');
  writeFileSync(join(dir, 'b.jsonl.gz'), gzipSync('{"source":"cat","target":"chat"}\nnot json\n'));
  assert.deepEqual(readPairs(join(dir, 'a.tsv')), [{ source: 'hello', target: 'bonjour' }]);
  assert.throws(
    () => readPairs(join(dir, 'b.jsonl.gz')),
    new RegExp(`${join(dir, 'b.jsonl.gz').replaceAll('.', '\\.')}:2: expected a JSON object`),
  );
  assert.throws(() => readPairs(join(dir, 'missing.tsv')), /readPairs: cannot read .*missing\.tsv/);
});
