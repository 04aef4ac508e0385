import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { loadDdtp } from '../../src/data/ddtp.ts';
import { BpeTokenizer, decodeWtf8, encodeWtf8 } from '../../src/data/tokenizer.ts';
import { trainBpe } from '../../src/data/tokenizer-train.ts';

const pairs = loadDdtp('synopses-en-fr', 'train', { limit: 3000 });
const tokenizer = trainBpe(
  pairs.flatMap((p) => [p.source, p.target]),
  { vocabSize: 2000 },
);

test('trainBpe reaches the requested vocabulary and compresses text', () => {
  assert.equal(tokenizer.vocabSize, 2000);
  const text = pairs.slice(0, 200).map((p) => p.target);
  const tokens = text.reduce((a, s) => a + tokenizer.encode(s).length, 0);
  const chars = text.reduce((a, s) => a + s.length, 0);
  assert.ok(chars / tokens > 2.5, `only ${(chars / tokens).toFixed(2)} characters per token`);
});

test('decode(encode(s)) === s on the training text, unseen scripts, emoji, whitespace runs and lone surrogates', () => {
  for (const p of pairs.slice(0, 500)) {
    assert.equal(tokenizer.decode(tokenizer.encode(p.source)), p.source);
    assert.equal(tokenizer.decode(tokenizer.encode(p.target)), p.target);
  }
  const hard = [
    '',
    ' ',
    '   a  \t\tb\n\n',
    '日本語のテキスト',
    'Ελληνικά και русский',
    '😀👍🏽 family: 👨‍👩‍👧',
    'x\uD800y\uDFFFz',
    'e\u0301 café',
    '\u0000\u0007',
  ];
  for (const s of hard) assert.equal(tokenizer.decode(tokenizer.encode(s)), s, JSON.stringify(s));
});

test('property: decode(encode(s)) === s for arbitrary strings (full Unicode and lone surrogates)', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'grapheme' }),
        fc.string({ unit: 'binary' }),
        fc.string({ unit: fc.constantFrom(' ', '\t', 'a', 'é', '\n') }),
      ),
      (s) => {
        assert.equal(tokenizer.decode(tokenizer.encode(s)), s);
      },
    ),
    { numRuns: 500, seed: 15 },
  );
});

test('unknown characters fall back to bytes; every id is in range', () => {
  const ids = tokenizer.encode('日');
  assert.deepEqual(
    ids.map((i) => tokenizer.idToPiece(i)),
    ['<0xE6>', '<0x97>', '<0xA5>'],
  );
  for (const id of tokenizer.encode('anything 😀 at all')) assert.ok(id >= 3 && id < tokenizer.vocabSize);
});

test('bos/eos and special tokens', () => {
  const ids = tokenizer.encode('hello', { addBos: true, addEos: true });
  assert.equal(ids[0], tokenizer.bosId);
  assert.equal(ids[ids.length - 1], tokenizer.eosId);
  assert.equal(tokenizer.decode(ids), 'hello');
  assert.equal(tokenizer.decode(ids, { skipSpecials: false }), '<s>hello</s>');
});

test('JSON round trip gives the same encodings; training is deterministic', () => {
  const again = BpeTokenizer.fromJSON(JSON.stringify(tokenizer.toJSON()));
  const retrained = trainBpe(
    pairs.flatMap((p) => [p.source, p.target]),
    { vocabSize: 2000 },
  );
  assert.deepEqual(retrained.toJSON(), tokenizer.toJSON());
  for (const p of pairs.slice(0, 100)) assert.deepEqual(again.encode(p.target), tokenizer.encode(p.target));
});

test('a merge list that does not match its pieces is rejected', () => {
  const json = tokenizer.toJSON();
  json.merges[0] = ['zz-not-a-piece', 'q'];
  assert.throws(() => BpeTokenizer.fromJSON(json), /merge 0 .* does not match the piece list/);
  assert.throws(() => BpeTokenizer.fromJSON({ ...json, version: 2 as 1 }), /expected \{ type: 'bpe', version: 1 \}/);
});

test('WTF-8: malformed bytes decode to U+FFFD, code points round-trip', () => {
  assert.equal(decodeWtf8([0xff, 0x41]), '\uFFFDA');
  assert.equal(decodeWtf8([0xe6, 0x97]), '\uFFFD\uFFFD');
  for (const ch of ['a', 'é', '€', '😀', '\uD800']) assert.equal(decodeWtf8(encodeWtf8(ch)), ch);
});
