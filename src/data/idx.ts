// The IDX format of the MNIST family (LeCun's "file formats" note):
//   bytes 0-1  zero
//   byte  2    element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
//   byte  3    number of dimensions
//   then one big-endian u32 per dimension, then the data, big-endian, row-major.
// Files may be gzipped (.gz); they are inflated with Node's zlib into one
// buffer and the u8 data is a view of it, never copied into a JS array.

import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray {
  type: IdxType;
  dims: number[];
  data: IdxData;
}

const TYPES: Record<number, [IdxType, number]> = {
  8: ['uint8', 1],
  9: ['int8', 1],
  11: ['int16', 2],
  12: ['int32', 4],
  13: ['float32', 4],
  14: ['float64', 8],
};

/** Parses IDX bytes; `source` names the file in errors. */
export function parseIdx(bytes: Uint8Array, source = 'buffer'): IdxArray {
  const fail = (what: string): never => {
    throw new Error(`idx: ${source}: ${what}`);
  };
  if (bytes.length < 4) fail(`truncated: ${bytes.length} bytes, shorter than the 4-byte magic number`);
  const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  if (bytes[0] !== 0 || bytes[1] !== 0) fail(`bad magic number ${magic}: an IDX file starts with two zero bytes`);
  const spec = TYPES[bytes[2]!];
  if (!spec) fail(`bad magic number ${magic}: unknown element type 0x${bytes[2]!.toString(16).padStart(2, '0')}`);
  const [type, size] = spec!;
  const rank = bytes[3]!;
  const start = 4 + 4 * rank;
  if (bytes.length < start) fail(`truncated: the header declares ${rank} dimensions but the file has ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = start + count * size;
  if (bytes.length !== expected) {
    fail(
      `${bytes.length < expected ? 'truncated' : 'trailing bytes'}: dimensions [${dims.join(', ')}] of ${type} need ${expected} bytes, the file has ${bytes.length}`,
    );
  }
  return { type, dims, data: decode(type, bytes.subarray(start), count, view, start) };
}

function decode(type: IdxType, body: Uint8Array, count: number, view: DataView, start: number): IdxData {
  switch (type) {
    case 'uint8':
      return body;
    case 'int8':
      return new Int8Array(body.buffer, body.byteOffset, count);
    case 'int16':
      return Int16Array.from({ length: count }, (_, i) => view.getInt16(start + 2 * i, false));
    case 'int32':
      return Int32Array.from({ length: count }, (_, i) => view.getInt32(start + 4 * i, false));
    case 'float32':
      return Float32Array.from({ length: count }, (_, i) => view.getFloat32(start + 4 * i, false));
    case 'float64':
      return Float64Array.from({ length: count }, (_, i) => view.getFloat64(start + 8 * i, false));
  }
}

/** Reads an IDX file, inflating it first when it is gzipped (by its magic bytes 1f 8b). */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`idx: cannot read ${path}: ${(e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new Error(`idx: ${path}: corrupt gzip data (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

/** IDX bytes for unsigned 8-bit data of the given dimensions. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`idx: ${data.length} bytes do not fill dimensions [${dims.join(', ')}] (${count})`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = dims.length;
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d, false);
  out.set(data, 4 + 4 * dims.length);
  return out;
}
