// Elementwise kernels: broadcast binary arithmetic, unary math and
// activations with their derivatives, and seeded dropout. Float32, in
// place allowed (out may be an input). The readable reference is
// src/backend/js/elementwise.ts and dropout.ts; the op codes are the
// positions of BinaryOp / UnaryOp in src/backend/wasm/elementwise.ts.
//
// Threads own disjoint 16-float-aligned ranges of the output.
import { at, elementShare, loadN, storeN } from './lanes';
import { geluDerivativeFast, geluFast } from './fast-math';
import { pow64, sigmoidParts, vexp, vlog, vsigmoid, vtanh } from './math';

const ADD = 0;
const SUB = 1;
const MUL = 2;
const DIV = 3;
const MAXIMUM = 4;
const MINIMUM = 5;
const EQUAL = 6;

const NEG = 0;
const EXP = 1;
const LOG = 2;
const SQRT = 3;
const RSQRT = 4;
const ABS = 5;
const SQUARE = 6;
const TANH = 7;
const SIGMOID = 8;
const RELU = 9;
const GELU = 10;
const GELU_TANH = 11;
const SILU = 12;
const ADD_SCALAR = 13;
const MUL_SCALAR = 14;
const POW_SCALAR = 15;
const RSUB_SCALAR = 16;
const RDIV_SCALAR = 17;

const SQRT_2_OVER_PI: f32 = 0.7978845608028654;
const GELU_TANH_A: f32 = 0.044715;

// @ts-ignore: decorator
@inline function splat(v: f32): v128 {
  return f32x4.splat(v);
}

// ---- binary ----

// @ts-ignore: decorator
@inline function binaryVec(op: i32, a: v128, b: v128): v128 {
  if (op == ADD) return f32x4.add(a, b);
  if (op == SUB) return f32x4.sub(a, b);
  if (op == MUL) return f32x4.mul(a, b);
  if (op == DIV) return f32x4.div(a, b);
  // the reference's a >= b ? a : b (NaN in a gives b; -0 vs +0 keeps a)
  if (op == MAXIMUM) return v128.bitselect(a, b, f32x4.ge(a, b));
  if (op == MINIMUM) return v128.bitselect(a, b, f32x4.le(a, b));
  return v128.and(f32x4.eq(a, b), splat(1));
}

/** out[i] = a[i·sa] op b[i·sb] for i < n; sa, sb are element strides (0 broadcasts). */
// @ts-ignore: decorator
@inline function binaryRunOp(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  let i = 0;
  if (sa == 1 && sb == 1) {
    for (; i + 8 <= n; i += 8) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVec(op, v128.load(a + o), v128.load(b + o)));
      v128.store(out + o, binaryVec(op, v128.load(a + o, 16), v128.load(b + o, 16)), 16);
    }
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVec(op, v128.load(a + o), v128.load(b + o)));
    }
    if (i < n) storeN(at(out, i), binaryVec(op, loadN(at(a, i), n - i), loadN(at(b, i), n - i)), n - i);
  } else if (sa == 1 && sb == 0) {
    const vb = v128.load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVec(op, v128.load(a + o), vb));
    }
    if (i < n) storeN(at(out, i), binaryVec(op, loadN(at(a, i), n - i), vb), n - i);
  } else if (sa == 0 && sb == 1) {
    const va = v128.load32_splat(a);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(out + o, binaryVec(op, va, v128.load(b + o)));
    }
    if (i < n) storeN(at(out, i), binaryVec(op, va, loadN(at(b, i), n - i)), n - i);
  } else {
    for (; i < n; i++) {
      const v = binaryVec(op, v128.load32_zero(at(a, i * sa)), v128.load32_zero(at(b, i * sb)));
      v128.store32_lane(at(out, i), v, 0);
    }
  }
}

function binaryRun(op: i32, a: usize, sa: i32, b: usize, sb: i32, out: usize, n: i32): void {
  switch (op) {
    case ADD: binaryRunOp(ADD, a, sa, b, sb, out, n); break;
    case SUB: binaryRunOp(SUB, a, sa, b, sb, out, n); break;
    case MUL: binaryRunOp(MUL, a, sa, b, sb, out, n); break;
    case DIV: binaryRunOp(DIV, a, sa, b, sb, out, n); break;
    case MAXIMUM: binaryRunOp(MAXIMUM, a, sa, b, sb, out, n); break;
    case MINIMUM: binaryRunOp(MINIMUM, a, sa, b, sb, out, n); break;
    default: binaryRunOp(EQUAL, a, sa, b, sb, out, n);
  }
}

/**
 * Broadcast binary over a rank-6 index space n0..n5 (the wrapper merges
 * dimensions and pads with leading 1s); out is contiguous, a and b are read
 * with element strides sa*, sb* (0 on broadcast dimensions). Each thread
 * walks its share as runs along the last dimension; the common cases
 * (same shape, bias rows, scalars) become one or few long runs.
 */
export function binary(
  op: i32, a: usize, b: usize, out: usize,
  n0: i32, n1: i32, n2: i32, n3: i32, n4: i32, n5: i32,
  sa0: i32, sa1: i32, sa2: i32, sa3: i32, sa4: i32, sa5: i32,
  sb0: i32, sb1: i32, sb2: i32, sb3: i32, sb4: i32, sb5: i32,
  tid: i32, nthreads: i32,
): void {
  const total = n0 * n1 * n2 * n3 * n4 * n5;
  const start = elementShare(total, tid, nthreads);
  const end = elementShare(total, tid + 1, nthreads);
  if (start >= end) return;
  // decode the first element's index
  let row = start / n5;
  let col = start - row * n5;
  let i4 = row % n4; row /= n4;
  let i3 = row % n3; row /= n3;
  let i2 = row % n2; row /= n2;
  let i1 = row % n1; row /= n1;
  const i0 = row;
  let oa = i0 * sa0 + i1 * sa1 + i2 * sa2 + i3 * sa3 + i4 * sa4;
  let ob = i0 * sb0 + i1 * sb1 + i2 * sb2 + i3 * sb3 + i4 * sb4;
  let pos = start;
  for (;;) {
    const len = min(n5 - col, end - pos);
    binaryRun(op, at(a, oa + col * sa5), sa5, at(b, ob + col * sb5), sb5, at(out, pos), len);
    pos += len;
    if (pos >= end) break;
    col = 0;
    // odometer over dimensions 4..1 (dimension 0 never wraps inside the share)
    oa += sa4; ob += sb4;
    if (++i4 < n4) continue;
    i4 = 0; oa += sa3 - sa4 * n4; ob += sb3 - sb4 * n4;
    if (++i3 < n3) continue;
    i3 = 0; oa += sa2 - sa3 * n3; ob += sb2 - sb3 * n3;
    if (++i2 < n2) continue;
    i2 = 0; oa += sa1 - sa2 * n2; ob += sb1 - sb2 * n2;
    if (++i1 < n1) continue;
    i1 = 0; oa += sa0 - sa1 * n1; ob += sb0 - sb1 * n1;
  }
}

// ---- unary ----

/** Rounds like the reference, which computes in float64 and stores float32. */
// @ts-ignore: decorator
@inline function scalarOp64(op: i32, x: v128, alpha: v128): v128 {
  if (op == ADD_SCALAR) return f64x2.add(x, alpha);
  if (op == MUL_SCALAR) return f64x2.mul(x, alpha);
  if (op == RSUB_SCALAR) return f64x2.sub(alpha, x);
  return f64x2.div(alpha, x);
}

// @ts-ignore: decorator
@inline function viaF64(op: i32, v: v128, alpha: v128): v128 {
  const lo = scalarOp64(op, f64x2.promote_low_f32x4(v), alpha);
  const hi = scalarOp64(op, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)), alpha);
  return v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/** 2u of the tanh GELU, u = √(2/π)·(x + 0.044715·x³). */
// @ts-ignore: decorator
@inline function geluTanhArg(x: v128): v128 {
  return f32x4.mul(x, f32x4.add(splat(2 * SQRT_2_OVER_PI), f32x4.mul(f32x4.mul(x, x), splat(2 * SQRT_2_OVER_PI * GELU_TANH_A))));
}

// @ts-ignore: decorator
@inline function unaryVec(op: i32, x: v128, alpha64: v128): v128 {
  if (op == NEG) return f32x4.neg(x);
  if (op == EXP) return vexp(x);
  if (op == LOG) return vlog(x);
  if (op == SQRT) return f32x4.sqrt(x);
  if (op == RSQRT) return f32x4.div(splat(1), f32x4.sqrt(x));
  if (op == ABS) return f32x4.abs(x);
  if (op == SQUARE) return f32x4.mul(x, x);
  if (op == TANH) return vtanh(x);
  if (op == SIGMOID) return vsigmoid(x);
  if (op == RELU) return v128.and(x, f32x4.gt(x, splat(0)));
  // 0.5·x·(1 + erf(x/√2)) = x·Φ(x)
  if (op == GELU) return geluFast(x);
  // 0.5·x·(1 + tanh u) = x·σ(2u)
  if (op == GELU_TANH) return f32x4.mul(x, vsigmoid(geluTanhArg(x)));
  if (op == SILU) return f32x4.mul(x, vsigmoid(x));
  return viaF64(op, x, alpha64);
}

// @ts-ignore: decorator
@inline function unaryRange(op: i32, x: usize, out: usize, start: i32, end: i32, alpha: f64): void {
  const a64 = f64x2.splat(alpha);
  let i = start;
  // four (then two) independent vectors per iteration: the polynomial chains are
  // latency-bound, and V8 rebuilds each v128 constant once per iteration
  for (; i + 16 <= end; i += 16) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o);
    const v1 = v128.load(x + o, 16);
    const v2 = v128.load(x + o, 32);
    const v3 = v128.load(x + o, 48);
    v128.store(out + o, unaryVec(op, v0, a64));
    v128.store(out + o, unaryVec(op, v1, a64), 16);
    v128.store(out + o, unaryVec(op, v2, a64), 32);
    v128.store(out + o, unaryVec(op, v3, a64), 48);
  }
  for (; i + 8 <= end; i += 8) {
    const o = <usize>i << 2;
    const v0 = v128.load(x + o);
    const v1 = v128.load(x + o, 16);
    v128.store(out + o, unaryVec(op, v0, a64));
    v128.store(out + o, unaryVec(op, v1, a64), 16);
  }
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(out + o, unaryVec(op, v128.load(x + o), a64));
  }
  if (i < end) storeN(at(out, i), unaryVec(op, loadN(at(x, i), end - i), a64), end - i);
}

/** out[i] = f(x[i]) for the UnaryOp with code `op`; alpha is the scalar of the *Scalar ops. */
export function unary(op: i32, x: usize, out: usize, n: i32, alpha: f64, tid: i32, nthreads: i32): void {
  const start = elementShare(n, tid, nthreads);
  const end = elementShare(n, tid + 1, nthreads);
  switch (op) {
    case NEG: unaryRange(NEG, x, out, start, end, alpha); break;
    case EXP: unaryRange(EXP, x, out, start, end, alpha); break;
    case LOG: unaryRange(LOG, x, out, start, end, alpha); break;
    case SQRT: unaryRange(SQRT, x, out, start, end, alpha); break;
    case RSQRT: unaryRange(RSQRT, x, out, start, end, alpha); break;
    case ABS: unaryRange(ABS, x, out, start, end, alpha); break;
    case SQUARE: unaryRange(SQUARE, x, out, start, end, alpha); break;
    case TANH: unaryRange(TANH, x, out, start, end, alpha); break;
    case SIGMOID: unaryRange(SIGMOID, x, out, start, end, alpha); break;
    case RELU: unaryRange(RELU, x, out, start, end, alpha); break;
    case GELU: unaryRange(GELU, x, out, start, end, alpha); break;
    case GELU_TANH: unaryRange(GELU_TANH, x, out, start, end, alpha); break;
    case SILU: unaryRange(SILU, x, out, start, end, alpha); break;
    case ADD_SCALAR: unaryRange(ADD_SCALAR, x, out, start, end, alpha); break;
    case MUL_SCALAR: unaryRange(MUL_SCALAR, x, out, start, end, alpha); break;
    case RSUB_SCALAR: unaryRange(RSUB_SCALAR, x, out, start, end, alpha); break;
    case RDIV_SCALAR: unaryRange(RDIV_SCALAR, x, out, start, end, alpha); break;
    case POW_SCALAR:
      for (let i = start; i < end; i++) store<f32>(at(out, i), <f32>pow64(<f64>load<f32>(at(x, i)), alpha));
      break;
  }
}

// ---- unary derivatives: dx = dy · f'(x), from y = f(x) where the reference uses it ----

// @ts-ignore: decorator
@inline function derivativeVec(op: i32, x: v128, y: v128): v128 {
  if (op == NEG) return splat(-1);
  if (op == EXP) return y;
  if (op == SQRT) return f32x4.div(splat(0.5), y);
  if (op == RSQRT) return f32x4.mul(f32x4.mul(f32x4.mul(y, y), y), splat(-0.5));
  if (op == ABS) return v128.or(v128.and(f32x4.gt(x, splat(0)), splat(1)), v128.and(f32x4.lt(x, splat(0)), splat(-1)));
  // 1 − y² = (1 − y)(1 + y), which keeps its relative accuracy for y near ±1
  if (op == TANH) return f32x4.mul(f32x4.sub(splat(1), y), f32x4.add(splat(1), y));
  if (op == SIGMOID) return f32x4.mul(y, f32x4.sub(splat(1), y));
  if (op == RELU) return v128.and(f32x4.gt(x, splat(0)), splat(1));
  // Φ(x) + x·φ(x)
  if (op == GELU) return geluDerivativeFast(x);
  if (op == GELU_TANH) {
    // 0.5(1 + t) + 0.5x(1 − t²)·√(2/π)(1 + 3·0.044715x²) with t = tanh u = 2σ(2u) − 1:
    //   = s + 2x·s(1 − s)·√(2/π)(1 + 0.134145x²),  s = σ(2u),  s(1 − s) = e·d²
    const e = sigmoidParts(geluTanhArg(x));
    const d = f32x4.div(splat(1), f32x4.add(splat(1), e));
    const s = v128.bitselect(d, f32x4.mul(e, d), f32x4.ge(x, splat(0)));
    const x2 = f32x4.mul(x, x);
    const slope = f32x4.mul(splat(2 * SQRT_2_OVER_PI), f32x4.add(splat(1), f32x4.mul(x2, splat(3 * GELU_TANH_A))));
    return fmaAdd(f32x4.mul(f32x4.mul(x, slope), e), f32x4.mul(d, d), s);
  }
  // silu: σ(x)·(1 + x·(1 − σ(x)))
  const e = sigmoidParts(x);
  const d = f32x4.div(splat(1), f32x4.add(splat(1), e));
  const positive = f32x4.ge(x, splat(0));
  const s = v128.bitselect(d, f32x4.mul(e, d), positive);
  const oneMinusS = v128.bitselect(f32x4.mul(e, d), d, positive);
  return f32x4.mul(s, f32x4.add(splat(1), f32x4.mul(x, oneMinusS)));
}

// @ts-ignore: decorator
@inline function fmaAdd(a: v128, b: v128, c: v128): v128 {
  return f32x4.add(f32x4.mul(a, b), c);
}

/** dy·f′(x), ordered so that an intermediate does not overflow where the reference's float64 product does not. */
// @ts-ignore: decorator
@inline function gradVec(op: i32, x: v128, y: v128, dy: v128): v128 {
  if (op == LOG) return f32x4.div(dy, x);
  if (op == SQUARE) return f32x4.mul(f32x4.add(dy, dy), x); // 2x alone may overflow where 2x·dy does not
  return f32x4.mul(dy, derivativeVec(op, x, y));
}

// @ts-ignore: decorator
@inline function gradRange(op: i32, x: usize, y: usize, dy: usize, dx: usize, start: i32, end: i32): void {
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const o = <usize>i << 2;
    const g0 = gradVec(op, v128.load(x + o), v128.load(y + o), v128.load(dy + o));
    const g1 = gradVec(op, v128.load(x + o, 16), v128.load(y + o, 16), v128.load(dy + o, 16));
    v128.store(dx + o, g0);
    v128.store(dx + o, g1, 16);
  }
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, gradVec(op, v128.load(x + o), v128.load(y + o), v128.load(dy + o)));
  }
  if (i < end) {
    const n = end - i;
    storeN(at(dx, i), gradVec(op, loadN(at(x, i), n), loadN(at(y, i), n), loadN(at(dy, i), n)), n);
  }
}

// @ts-ignore: decorator
@inline function gradScalar(op: i32, x: f64, dy: f64, alpha: f64): f64 {
  if (op == MUL_SCALAR) return dy * alpha;
  if (op == RDIV_SCALAR) return dy * (-alpha / (x * x));
  // powScalar
  return dy * (alpha == 0 ? 0 : alpha * pow64(x, alpha - 1));
}

/** dx[i] = dy[i]·f'(x[i]) for the UnaryOp with code `op` (y = f(x) from the forward pass). */
export function unaryGrad(
  op: i32, x: usize, y: usize, dy: usize, dx: usize, n: i32, alpha: f64, tid: i32, nthreads: i32,
): void {
  const start = elementShare(n, tid, nthreads);
  const end = elementShare(n, tid + 1, nthreads);
  switch (op) {
    case NEG: gradRange(NEG, x, y, dy, dx, start, end); break;
    case EXP: gradRange(EXP, x, y, dy, dx, start, end); break;
    case LOG: gradRange(LOG, x, y, dy, dx, start, end); break;
    case SQRT: gradRange(SQRT, x, y, dy, dx, start, end); break;
    case RSQRT: gradRange(RSQRT, x, y, dy, dx, start, end); break;
    case ABS: gradRange(ABS, x, y, dy, dx, start, end); break;
    case SQUARE: gradRange(SQUARE, x, y, dy, dx, start, end); break;
    case TANH: gradRange(TANH, x, y, dy, dx, start, end); break;
    case SIGMOID: gradRange(SIGMOID, x, y, dy, dx, start, end); break;
    case RELU: gradRange(RELU, x, y, dy, dx, start, end); break;
    case GELU: gradRange(GELU, x, y, dy, dx, start, end); break;
    case GELU_TANH: gradRange(GELU_TANH, x, y, dy, dx, start, end); break;
    case SILU: gradRange(SILU, x, y, dy, dx, start, end); break;
    case ADD_SCALAR: if (end > start) memory.copy(at(dx, start), at(dy, start), <usize>(end - start) << 2); break;
    case RSUB_SCALAR: unaryRange(NEG, dy, dx, start, end, 0); break;
    case MUL_SCALAR:
      for (let i = start; i < end; i++) {
        store<f32>(at(dx, i), <f32>gradScalar(MUL_SCALAR, 0, <f64>load<f32>(at(dy, i)), alpha));
      }
      break;
    case RDIV_SCALAR:
      for (let i = start; i < end; i++) {
        store<f32>(at(dx, i), <f32>gradScalar(RDIV_SCALAR, <f64>load<f32>(at(x, i)), <f64>load<f32>(at(dy, i)), alpha));
      }
      break;
    case POW_SCALAR:
      for (let i = start; i < end; i++) {
        store<f32>(at(dx, i), <f32>gradScalar(POW_SCALAR, <f64>load<f32>(at(x, i)), <f64>load<f32>(at(dy, i)), alpha));
      }
      break;
  }
}

// ---- dropout ----

/** dropoutKeep's hash of element indices `index` (four lanes), from h0 = imul(seed ^ 0x9e3779b9, 0x85ebca6b). */
// @ts-ignore: decorator
@inline function dropoutHash(h0: v128, index: v128): v128 {
  let h = v128.xor(h0, index);
  h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 16)), i32x4.splat(0x7feb352d));
  h = i32x4.mul(v128.xor(h, i32x4.shr_u(h, 15)), i32x4.splat(<i32>0x846ca68b));
  return v128.xor(h, i32x4.shr_u(h, 16));
}

/**
 * out[i] = keep(i) ? x[i]·scale : 0 with the counter hash of dropoutKeep in
 * src/backend/kernels.ts. keep(i) is h(i) ≥ threshold (unsigned), where
 * threshold = ⌈p·2^32⌉ is given as its low 32 bits, and keepNone is set when
 * it is 2^32. x·scale is rounded from float64, as in the reference.
 */
export function dropout(
  x: usize, out: usize, n: i32, seed: i32, threshold: i32, keepNone: i32, scale: f64, tid: i32, nthreads: i32,
): void {
  const start = elementShare(n, tid, nthreads);
  const end = elementShare(n, tid + 1, nthreads);
  const h0 = i32x4.splat((seed ^ <i32>0x9e3779b9) * <i32>0x85ebca6b);
  const limit = i32x4.splat(threshold);
  const none = i32x4.splat(keepNone ? -1 : 0);
  const scale64 = f64x2.splat(scale);
  let index = i32x4.add(i32x4.splat(start), i32x4(0, 1, 2, 3));
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const keep0 = v128.andnot(i32x4.ge_u(dropoutHash(h0, index), limit), none);
    const keep1 = v128.andnot(i32x4.ge_u(dropoutHash(h0, i32x4.add(index, i32x4.splat(4))), limit), none);
    const o = <usize>i << 2;
    v128.store(out + o, v128.and(viaF64(MUL_SCALAR, v128.load(x + o), scale64), keep0));
    v128.store(out + o, v128.and(viaF64(MUL_SCALAR, v128.load(x + o, 16), scale64), keep1), 16);
    index = i32x4.add(index, i32x4.splat(8));
  }
  for (; i < end; i += 4) {
    const count = min(4, end - i);
    const keep = v128.andnot(i32x4.ge_u(dropoutHash(h0, index), limit), none);
    const y = v128.and(viaF64(MUL_SCALAR, count == 4 ? v128.load(at(x, i)) : loadN(at(x, i), count), scale64), keep);
    if (count == 4) v128.store(at(out, i), y);
    else storeN(at(out, i), y, count);
    index = i32x4.add(index, i32x4.splat(4));
  }
}
