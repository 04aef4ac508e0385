// The safetensors format (Hugging Face): 8 bytes N (u64 little-endian), N
// bytes of UTF-8 JSON, then the data. The header maps each tensor name to
// { dtype, shape, data_offsets: [begin, end] } with offsets relative to the
// first data byte; an optional "__metadata__" maps strings to strings.
// Tensors are stored row-major, little-endian, packed without gaps or
// overlaps. As the reference writer does, tensors are laid out by
// descending alignment then name, and the header is padded with spaces to a
// multiple of 8 bytes so every tensor starts aligned.
//
// Reading refuses a damaged file with a message naming the file and the fault:
// truncated header length, header past the end, bad JSON, unknown dtype,
// offsets out of range, overlapping or leaving gaps, wrong byte count for a shape.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DType } from '../tensor/dtype.js';
import { Tensor } from '../tensor/tensor.js';

/** Bytes per element of every dtype the format defines. */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  I64: 8,
  U64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

const FROM_DTYPE: Partial<Record<string, DType>> = { F32: 'float32', F64: 'float64', I32: 'int32', BOOL: 'bool' };
const TO_DTYPE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32', bool: 'BOOL' };

/** The largest header accepted (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range in the data section. */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  metadata: Record<string, string>;
  entries: SafetensorsEntry[];
  /** Offset of the data section in the file (8 + header length). */
  dataStart: number;
}

export interface SafetensorsContents {
  metadata: Record<string, string>;
  tensors: Map<string, Tensor>;
}

type TensorMap = Map<string, Tensor> | Record<string, Tensor>;

/** The file's bytes for these tensors and metadata. */
export function encodeSafetensors(tensors: TensorMap, metadata: Record<string, string> = {}): Uint8Array {
  const list = [...(tensors instanceof Map ? tensors : Object.entries(tensors))];
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new Error(`safetensors: metadata '${k}' must be a string, got ${typeof v}`);
  }
  list.sort(([na, a], [nb, b]) => DTYPE_BYTES[TO_DTYPE[b.dtype]]! - DTYPE_BYTES[TO_DTYPE[a.dtype]]! || (na < nb ? -1 : na > nb ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__') throw new Error(`safetensors: '__metadata__' cannot name a tensor`);
    if (name in header) throw new Error(`safetensors: tensor name '${name}' appears twice`);
    const bytes = t.size * DTYPE_BYTES[TO_DTYPE[t.dtype]]!;
    header[name] = { dtype: TO_DTYPE[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const [, t] of list) {
    const v = t.view();
    out.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), at);
    at += v.byteLength;
  }
  return out;
}

/** Parses and checks the header; `source` names the file in errors. */
export function readSafetensorsHeader(bytes: Uint8Array, source = 'buffer'): SafetensorsHeader {
  const fail = (what: string): never => {
    throw new Error(`safetensors: ${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const n64 = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n64 > BigInt(MAX_HEADER_BYTES)) fail(`bad header length ${n64} (more than ${MAX_HEADER_BYTES} bytes)`);
  const n = Number(n64);
  if (8 + n > bytes.length) fail(`truncated: the header length says ${n} bytes but only ${bytes.length - 8} follow it`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) fail('the header is not a JSON object');
  const dataLength = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('__metadata__ is not an object of strings');
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    entries.push(checkEntry(name, value, dataLength, fail));
  }
  checkLayout(entries, dataLength, fail);
  return { metadata, entries, dataStart: 8 + n };
}

function checkEntry(name: string, value: unknown, dataLength: number, fail: (what: string) => never): SafetensorsEntry {
  const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (value === null || typeof value !== 'object') fail(`tensor '${name}' is not an object`);
  if (typeof v.dtype !== 'string' || !(v.dtype in DTYPE_BYTES)) fail(`tensor '${name}' has unknown dtype ${JSON.stringify(v.dtype)}`);
  const dims = v.shape;
  if (!Array.isArray(dims) || !dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(`tensor '${name}' has a bad shape ${JSON.stringify(dims)} (expected a list of integers ≥ 0)`);
  }
  const offsets = v.data_offsets;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)} (expected [begin, end])`);
  }
  const [begin, end] = offsets as [number, number];
  const shape = dims as number[];
  if (end < begin) fail(`tensor '${name}' has data_offsets [${begin}, ${end}] that end before they begin`);
  if (end > dataLength) {
    fail(`truncated or corrupt: tensor '${name}' has data_offsets [${begin}, ${end}] beyond the ${dataLength} data bytes in the file`);
  }
  const expected = shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[v.dtype as string]!;
  if (end - begin !== expected) {
    fail(
      `tensor '${name}' (${v.dtype} [${shape.join(', ')}]) needs ${expected} bytes, its data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype: v.dtype as string, shape, begin, end };
}

function checkLayout(entries: SafetensorsEntry[], dataLength: number, fail: (what: string) => never): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const e of sorted) {
    if (e.begin < at) fail(`tensor '${e.name}' data_offsets [${e.begin}, ${e.end}] overlap the tensor before it (which ends at ${at})`);
    if (e.begin > at) fail(`a gap of ${e.begin - at} bytes before tensor '${e.name}' (data_offsets [${e.begin}, ${e.end}])`);
    at = e.end;
  }
  if (at !== dataLength) fail(`the data section has ${dataLength} bytes but the tensors account for ${at}`);
}

/** Decodes a whole file into tensors (F16 and BF16 are widened to float32). */
export function decodeSafetensors(bytes: Uint8Array, source = 'buffer'): SafetensorsContents {
  const { metadata, entries, dataStart } = readSafetensorsHeader(bytes, source);
  const tensors = new Map<string, Tensor>();
  try {
    for (const e of entries) tensors.set(e.name, toTensor(e, bytes.subarray(dataStart + e.begin, dataStart + e.end), source));
  } catch (err) {
    for (const t of tensors.values()) t.dispose();
    throw err;
  }
  return { metadata, tensors };
}

function toTensor(e: SafetensorsEntry, raw: Uint8Array, source: string): Tensor {
  const direct = FROM_DTYPE[e.dtype];
  if (direct) {
    const t = Tensor.empty(e.shape, direct);
    const v = t.view();
    new Uint8Array(v.buffer, v.byteOffset, v.byteLength).set(raw);
    return t;
  }
  if (e.dtype !== 'F16' && e.dtype !== 'BF16') {
    throw new Error(`safetensors: ${source}: tensor '${e.name}' is ${e.dtype}; attune reads F32, F64, I32, BOOL, F16 and BF16`);
  }
  const t = Tensor.empty(e.shape, 'float32');
  const out = t.view();
  const half = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) {
    const h = half.getUint16(2 * i, true);
    out[i] = e.dtype === 'BF16' ? bf16ToFloat(h) : f16ToFloat(h);
  }
  return t;
}

const scratch = new DataView(new ArrayBuffer(4));
function bf16ToFloat(h: number): number {
  scratch.setUint32(0, h << 16);
  return scratch.getFloat32(0);
}

function f16ToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** Writes tensors and metadata to `path` atomically. */
export function saveSafetensors(path: string, tensors: TensorMap, metadata: Record<string, string> = {}): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

/** Reads a file written by saveSafetensors or any other safetensors writer. */
export function loadSafetensors(path: string): SafetensorsContents {
  return decodeSafetensors(readFile(path), path);
}

/** Reads only the header (names, dtypes, shapes, metadata) of a file. */
export function loadSafetensorsHeader(path: string): SafetensorsHeader {
  return readSafetensorsHeader(readFile(path), path);
}

function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new Error(`safetensors: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes to a temporary file beside `path`, flushes it to disk, then
 * renames it over `path`: a reader sees the old file or the new one, never
 * half of one, even if the process dies mid-write.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fd = openSync(temp, 'w');
    try {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new Error(`safetensors: cannot write ${path}: ${(e as Error).message}`);
  }
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    // Directories cannot be fsynced on every platform; the rename stands.
  }
}
