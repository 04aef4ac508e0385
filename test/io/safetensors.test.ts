import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as at from '../../src/index.ts';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors } from '../../src/io/safetensors.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const reference = join(fixtures, 'reference.safetensors');

describe('safetensors: an independent writer (test/io/fixtures/make_safetensors_fixture.py)', () => {
  it('reads every tensor, dtype, shape and the metadata of its file', () => {
    const { metadata, tensors } = loadSafetensors(reference);
    assert.deepEqual(metadata, { format: 'pt', note: 'written by make_safetensors_fixture.py — ünïcode kept' });
    const got = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.dtype, t.shape, Array.from(t.view())]]));
    assert.deepEqual(got, {
      'layer.bias': ['float32', [2], [1.5, -0.25]],
      'layer.weight': ['float32', [2, 3], Array.from(Float32Array.of(1, -2, 0.5, 3.25, -0.125, 1e-3))],
      step: ['int32', [4], [7, -1, 2147483647, -2147483648]],
      scale: ['float64', [], [Math.PI]],
      keep: ['bool', [3], [1, 0, 1]],
      brain: ['float32', [2], [1.5, -2]],
      empty: ['float32', [0, 3], []],
    });
  });

  it("attune's file reads back in the independent reader, header padded to 8 bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-st-'));
    const path = join(dir, 'out.safetensors');
    saveSafetensors(
      path,
      {
        w: at.tensor([
          [1, 2.5],
          [-3, 4],
        ]),
        i: at.tensor(Int32Array.of(5, -6)),
        d: at.tensor(Float64Array.of(0.1)),
      },
      { config: '{"dim":4}' },
    );
    const out = JSON.parse(execFileSync('python3', [join(fixtures, 'make_safetensors_fixture.py'), '--read', path], { encoding: 'utf8' }));
    assert.deepEqual(out, {
      metadata: { config: '{"dim":4}' },
      tensors: {
        d: { dtype: 'F64', shape: [1], values: [0.1] },
        w: { dtype: 'F32', shape: [2, 2], values: [1, 2.5, -3, 4] },
        i: { dtype: 'I32', shape: [2], values: [5, -6] },
      },
    });
    assert.deepEqual(readdirSync(dir), ['out.safetensors'], 'no temporary file is left behind');
  });
});

describe('safetensors: round trip and refusals', () => {
  it('round-trips dtypes, shapes, scalars and metadata bit for bit', () => {
    const x = at.randn([3, 4, 5], { seed: 3 });
    const bytes = encodeSafetensors(
      new Map([
        ['x', x],
        ['s', at.scalar(-0)],
        ['m', at.tensor(Uint8Array.of(1, 0), [2], 'bool')],
      ]),
      { a: 'b' },
    );
    const { tensors, metadata } = decodeSafetensors(bytes);
    assert.deepEqual(metadata, { a: 'b' });
    assert.deepEqual(Array.from(tensors.get('x')!.view()), Array.from(x.view()));
    assert.deepEqual(tensors.get('s')!.shape, []);
    assert.ok(Object.is(tensors.get('s')!.item(), -0));
    assert.equal(tensors.get('m')!.dtype, 'bool');
  });

  const good = encodeSafetensors({ a: at.tensor([1, 2, 3]), b: at.tensor([4]) }, { k: 'v' });
  const headerLength = Number(new DataView(good.buffer).getBigUint64(0, true));
  const withHeader = (json: string, data = new Uint8Array(16)): Uint8Array => {
    const text = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + text.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(data, 8 + text.length);
    return out;
  };
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['a file shorter than 8 bytes', good.subarray(0, 5), /f\.safetensors: truncated: 5 bytes, shorter than the 8-byte header length/],
    [
      'a header length past the end',
      good.subarray(0, 20),
      /f\.safetensors: truncated: the header length says \d+ bytes but only 12 follow it/,
    ],
    ['a huge header length', Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255), /bad header length 18446744073709551615/],
    [
      'cut data',
      good.subarray(0, good.length - 2),
      /truncated or corrupt: tensor 'b' has data_offsets \[12, 16\] beyond the 14 data bytes/,
    ],
    ['bad JSON', withHeader('{"a": {"dtype": "F32",'), /f\.safetensors: the header is not valid JSON/],
    ['a JSON array', withHeader('[1, 2]'), /the header is not a JSON object/],
    [
      'an unknown dtype',
      withHeader('{"a": {"dtype": "F33", "shape": [4], "data_offsets": [0, 16]}}'),
      /tensor 'a' has unknown dtype "F33"/,
    ],
    [
      'a wrong byte count',
      withHeader('{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}}'),
      /tensor 'a' \(F32 \[3\]\) needs 12 bytes, its data_offsets \[0, 16\] hold 16/,
    ],
    [
      'overlapping tensors',
      withHeader(
        '{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 12]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}',
      ),
      /data_offsets \[8, 12\] overlap the tensor before it \(which ends at 12\)/,
    ],
    ['a gap', withHeader('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}'), /a gap of 8 bytes before tensor 'a'/],
    [
      'bytes left over',
      withHeader('{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}'),
      /the data section has 16 bytes but the tensors account for 8/,
    ],
    ['bad metadata', withHeader('{"__metadata__": {"k": 1}}', new Uint8Array(0)), /__metadata__ 'k' is not a string/],
    [
      'an unsupported dtype',
      withHeader('{"a": {"dtype": "I64", "shape": [2], "data_offsets": [0, 16]}}'),
      /tensor 'a' is I64; attune reads F32/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(`refuses ${what}, naming the file`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'attune-st-'));
      const path = join(dir, 'f.safetensors');
      writeFileSync(path, bytes);
      assert.throws(
        () => loadSafetensors(path),
        (e: Error) => e.message.includes(path) && message.test(e.message),
      );
    });
  }

  it('the good file those cases were cut from is fine', () => {
    assert.ok(headerLength % 8 === 0);
    assert.deepEqual(Array.from(decodeSafetensors(good).tensors.get('a')!.view()), [1, 2, 3]);
    assert.throws(() => loadSafetensors('/nonexistent/x.safetensors'), /safetensors: cannot read \/nonexistent\/x\.safetensors/);
  });

  it('a failed write leaves the previous file intact', () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-st-'));
    const path = join(dir, 'ck.safetensors');
    saveSafetensors(path, { a: at.tensor([1]) });
    const before = readFileSync(path);
    assert.throws(() => saveSafetensors(path, { a: at.tensor([2]) }, { bad: 3 as unknown as string }), /metadata 'bad' must be a string/);
    assert.deepEqual(readFileSync(path), before);
  });
});
