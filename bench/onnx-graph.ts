// ONNX models written from JS, for the onnxruntime peers of the benchmarks.
//
// B batch · H heads · Nq query rows · Nk key rows · D head dim
//
// Only the subset of onnx.proto these graphs need is declared below (field
// numbers as in onnx/onnx.proto). Every graph takes float32 inputs and has
// fixed shapes, so onnxruntime can plan memory and pick kernels once.

import protobuf from 'protobufjs';

const onnxSubset = `
syntax = "proto3";
package onnx;

message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; FLOATS = 6; INTS = 7; }
  string name = 1;
  AttributeType type = 20;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  string domain = 7;
  repeated AttributeProto attribute = 5;
}
message ModelProto {
  int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  string producer_name = 2;
  string producer_version = 3;
  GraphProto graph = 7;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  string name = 8;
  bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { int64 dim_value = 1; }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  Tensor tensor_type = 1;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`;

const ModelProto = protobuf.parse(onnxSubset).root.lookupType('onnx.ModelProto');

/** IR version 8 goes with opset 17 (onnx/docs/Versioning.md). */
const irVersion = 8;
const opsetVersion = 17;
const floatType = 1; // TensorProto.DataType.FLOAT
const attributeType = { float: 1, int: 2, ints: 7 } as const;

export type Shape = readonly number[];

/** One named graph input or output. */
export interface TensorInfo {
  name: string;
  shape: number[];
}

/** A serialised ONNX model and the names and shapes of its inputs and outputs. */
export interface OnnxModel {
  bytes: Uint8Array;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
}

type AttributeValue = number | number[] | { float: number };

interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

interface Initializer {
  name: string;
  shape: number[];
  data: Float32Array;
}

interface GraphSpec {
  name: string;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  nodes: NodeSpec[];
  initializers?: Initializer[];
}

function valueInfo({ name, shape }: TensorInfo) {
  return {
    name,
    type: { tensorType: { elemType: floatType, shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
  };
}

/** Plain integers are INT attributes, arrays INTS, `{ float }` FLOAT. */
function attribute(name: string, value: AttributeValue) {
  if (Array.isArray(value)) return { name, type: attributeType.ints, ints: value };
  if (typeof value === 'number') return { name, type: attributeType.int, i: value };
  return { name, type: attributeType.float, f: value.float };
}

function encodeModel(graph: GraphSpec): OnnxModel {
  const usesMicrosoftOps = graph.nodes.some((n) => n.domain === 'com.microsoft');
  const message = ModelProto.fromObject({
    irVersion,
    producerName: 'attune-bench',
    opsetImport: [{ domain: '', version: opsetVersion }, ...(usesMicrosoftOps ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: graph.name,
      node: graph.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        opType: n.op,
        domain: n.domain ?? '',
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: (graph.initializers ?? []).map((t) => ({
        name: t.name,
        dims: t.shape,
        dataType: floatType,
        rawData: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
  });
  return { bytes: ModelProto.encode(message).finish(), inputs: graph.inputs, outputs: graph.outputs };
}

/** Shape of A·B with numpy-style batch broadcasting, as ONNX MatMul defines it. */
export function matmulShape(shapeA: Shape, shapeB: Shape): number[] {
  if (shapeA.length < 2 || shapeB.length < 2) {
    throw new Error(`matmulGraph: operands must be rank ≥ 2, got [${shapeA}] and [${shapeB}]`);
  }
  const m = shapeA[shapeA.length - 2];
  const k = shapeA[shapeA.length - 1];
  const kB = shapeB[shapeB.length - 2];
  const n = shapeB[shapeB.length - 1];
  if (k !== kB) throw new Error(`matmulGraph: A is [${shapeA}] so B needs ${k} rows, got [${shapeB}]`);
  const batchA = shapeA.slice(0, -2);
  const batchB = shapeB.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const a = batchA[batchA.length - rank + i] ?? 1;
    const b = batchB[batchB.length - rank + i] ?? 1;
    if (a !== b && a !== 1 && b !== 1) {
      throw new Error(`matmulGraph: batch dims [${batchA}] and [${batchB}] do not broadcast`);
    }
    batch.push(Math.max(a, b));
  }
  return [...batch, m, n];
}

/** One MatMul node: C = A·B (batched shapes allowed, e.g. [8,512,64]×[8,64,512]). */
export function matmulGraph(shapeA: Shape, shapeB: Shape): OnnxModel {
  return encodeModel({
    name: 'matmul',
    inputs: [
      { name: 'a', shape: [...shapeA] },
      { name: 'b', shape: [...shapeB] },
    ],
    outputs: [{ name: 'c', shape: matmulShape(shapeA, shapeB) }],
    nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['c'] }],
  });
}

export interface AttentionGraphOptions {
  batch?: number;
  numHeads: number;
  headDim: number;
  seqQ: number;
  seqK: number;
  /** Query row i sees key j ≤ i + (Nk − Nq): aligned at the bottom right, so a decode row sees every key. */
  causal: boolean;
  /** Softmax scale; 1/√D when absent. */
  scale?: number;
}

/** Additive causal mask [Nq, Nk]: 0 where a key is visible, −∞ where it is not. */
export function causalMask(seqQ: number, seqK: number): Float32Array {
  const mask = new Float32Array(seqQ * seqK);
  const offset = seqK - seqQ;
  for (let i = 0; i < seqQ; i++) {
    for (let j = i + offset + 1; j < seqK; j++) mask[i * seqK + j] = Number.NEGATIVE_INFINITY;
  }
  return mask;
}

export interface MultiHeadAttentionGraphOptions extends AttentionGraphOptions {
  /**
   * Layout of key and value: 'bnsh' [B, H, Nk, D] (no transpose inside the op) or
   * 'bsnh' [B, Nk, H·D] (the op transposes them per call). Default 'bnsh'.
   */
  kvLayout?: 'bnsh' | 'bsnh';
  /**
   * How causality is expressed: the op's `unidirectional` attribute, or an additive
   * mask input `attention_bias` [1, 1, Nq, Nk]. Default 'unidirectional'.
   */
  causalVia?: 'unidirectional' | 'bias';
}

/**
 * com.microsoft MultiHeadAttention. Inputs: query [B, Nq, H·D] (the op has no 4-D
 * query form), key and value per `kvLayout`, and for `causalVia: 'bias'` the
 * initializer attention_bias. Output: [B, Nq, H·D].
 */
export function multiHeadAttentionGraph(options: MultiHeadAttentionGraphOptions): OnnxModel {
  const { batch = 1, numHeads, headDim, seqQ, seqK, causal } = options;
  const kvLayout = options.kvLayout ?? 'bnsh';
  const causalVia = options.causalVia ?? 'unidirectional';
  const hidden = numHeads * headDim;
  const kvShape = kvLayout === 'bnsh' ? [batch, numHeads, seqK, headDim] : [batch, seqK, hidden];
  const attributes: Record<string, AttributeValue> = { num_heads: numHeads };
  if (options.scale !== undefined) attributes.scale = { float: options.scale };
  const nodeInputs = ['query', 'key', 'value'];
  const initializers: Initializer[] = [];
  if (causal && causalVia === 'unidirectional') attributes.unidirectional = 1;
  if (causal && causalVia === 'bias') {
    // inputs 3 (bias) and 4 (key_padding_mask) stay empty
    nodeInputs.push('', '', 'attention_bias');
    initializers.push({ name: 'attention_bias', shape: [1, 1, seqQ, seqK], data: causalMask(seqQ, seqK) });
  }
  return encodeModel({
    name: 'multi_head_attention',
    inputs: [
      { name: 'query', shape: [batch, seqQ, hidden] },
      { name: 'key', shape: kvShape },
      { name: 'value', shape: kvShape },
    ],
    outputs: [{ name: 'output', shape: [batch, seqQ, hidden] }],
    nodes: [{ op: 'MultiHeadAttention', domain: 'com.microsoft', inputs: nodeInputs, outputs: ['output'], attributes }],
    initializers,
  });
}

export interface MatmulSoftmaxMatmulGraphOptions extends AttentionGraphOptions {
  /**
   * 'transposed': the key input is Kᵀ [B, H, D, Nk], made once by the caller.
   * 'transposeNode': the key input is K [B, H, Nk, D] and a Transpose node makes Kᵀ.
   * Default 'transposed'.
   */
  keyInput?: 'transposed' | 'transposeNode';
}

/**
 * Unfused attention from standard ops, all in [B, H, N, D]:
 * S = MatMul(Q, Kᵀ) · scale (+ causal mask) → P = Softmax(S) → O = MatMul(P, V).
 */
export function matmulSoftmaxMatmulGraph(options: MatmulSoftmaxMatmulGraphOptions): OnnxModel {
  const { batch = 1, numHeads, headDim, seqQ, seqK, causal } = options;
  const keyInput = options.keyInput ?? 'transposed';
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  const nodes: NodeSpec[] = [];
  const initializers: Initializer[] = [{ name: 'scale', shape: [], data: Float32Array.of(scale) }];
  let keyT = 'key';
  if (keyInput === 'transposeNode') {
    keyT = 'key_t';
    nodes.push({ op: 'Transpose', inputs: ['key'], outputs: [keyT], attributes: { perm: [0, 1, 3, 2] } });
  }
  nodes.push({ op: 'MatMul', inputs: ['query', keyT], outputs: ['qk'] });
  nodes.push({ op: 'Mul', inputs: ['qk', 'scale'], outputs: ['scores'] });
  let logits = 'scores';
  if (causal) {
    initializers.push({ name: 'mask', shape: [seqQ, seqK], data: causalMask(seqQ, seqK) });
    nodes.push({ op: 'Add', inputs: ['scores', 'mask'], outputs: ['masked'] });
    logits = 'masked';
  }
  nodes.push({ op: 'Softmax', inputs: [logits], outputs: ['probs'], attributes: { axis: -1 } });
  nodes.push({ op: 'MatMul', inputs: ['probs', 'value'], outputs: ['output'] });
  const keyShape = keyInput === 'transposed' ? [batch, numHeads, headDim, seqK] : [batch, numHeads, seqK, headDim];
  return encodeModel({
    name: 'matmul_softmax_matmul',
    inputs: [
      { name: 'query', shape: [batch, numHeads, seqQ, headDim] },
      { name: 'key', shape: keyShape },
      { name: 'value', shape: [batch, numHeads, seqK, headDim] },
    ],
    outputs: [{ name: 'output', shape: [batch, numHeads, seqQ, headDim] }],
    nodes,
    initializers,
  });
}
