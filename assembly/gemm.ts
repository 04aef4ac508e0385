// GEMM: C = A·B (+ C when accumulating), f32, row-major, `batch` independent
// products, one thread's share per call.
//
// M rows of A and C · N columns of B and C · K the reduction dimension
// MR × NR = 4 × 8  the micro-tile of C held in 8 v128 accumulators
// mc × kc × nc     cache blocks: rows of A, depth, columns of B per packing
//
// Blocking (GotoBLAS / BLIS), for the rows and columns of C this thread owns:
//
//   for jc in columns, step nc
//     for pc in 0..K, step kc        pack B[pc:+kc, jc:+nc] into kc×8 micro-panels
//       for ic in rows, step mc      pack A[ic:+mc, pc:+kc] into kc×4 micro-panels
//         for jr in 0..nc, step 8    one B micro-panel (kc·32 bytes, stays in L1)
//           for ir in 0..mc, step 4  micro-kernel: C[ir:+4, jr:+8] (+)= Apanel · Bpanel
//
// Packing handles the transposes and zero-pads partial panels, so one
// micro-kernel serves every layout and edge; only its write-back looks at the
// edge (a partial tile goes through a 4×8 scratch tile). The first kc block
// writes C (or adds to it when accumulating), later ones add.
//
// Threads own disjoint rectangles of C: the (batch × 4-row groups) ×
// (8-column groups) grid is cut into pr × pc parts (pr·pc ≤ nthreads), so no
// atomics are needed; each thread packs into its own scratch.
import { fma, shareStart } from './simd';

const MR = 4;
const NR = 8;
const DEFAULT_MC = 128;
const DEFAULT_KC = 256;
const DEFAULT_NC = 2048;

// @ts-ignore: decorator
@inline function ceilDiv(a: i32, b: i32): i32 {
  return (a + b - 1) / b;
}

// @ts-ignore: decorator
@inline function roundUp(a: i32, b: i32): i32 {
  return ceilDiv(a, b) * b;
}

// @ts-ignore: decorator
@inline function align64(bytes: i32): i32 {
  return (bytes + 63) & ~63;
}

// @ts-ignore: decorator
@inline function blockMc(mc: i32): i32 {
  return mc > 0 ? roundUp(mc, MR) : DEFAULT_MC;
}

// @ts-ignore: decorator
@inline function blockKc(kc: i32): i32 {
  return kc > 0 ? kc : DEFAULT_KC;
}

// @ts-ignore: decorator
@inline function blockNc(nc: i32): i32 {
  return nc > 0 ? roundUp(nc, NR) : DEFAULT_NC;
}

/** Bytes of packing scratch one thread needs (a multiple of 64). Non-positive sizes mean the defaults. */
export function gemmScratchBytes(mc: i32, kc: i32, nc: i32): i32 {
  const k = blockKc(kc);
  return align64(blockMc(mc) * k * 4) + align64(blockNc(nc) * k * 4) + align64(MR * NR * 4);
}

/**
 * C = A·B (+ C when accumulate), row-major f32, for `batch` independent products.
 * a, b, c, scratch: byte offsets. Batch strides in elements (0 = broadcast).
 * transA: A stored [K, M]; transB: B stored [N, K]. mc, kc, nc: cache blocks
 * (non-positive = defaults). Thread t uses scratch + t·gemmScratchBytes(mc, kc, nc).
 */
export function gemm(
  a: usize, b: usize, c: usize,
  batch: i32, M: i32, N: i32, K: i32,
  batchStrideA: i32, batchStrideB: i32, batchStrideC: i32,
  transA: i32, transB: i32,
  accumulate: i32,
  mc: i32, kc: i32, nc: i32,
  scratch: usize,
  tid: i32, nthreads: i32,
): void {
  if (batch <= 0 || M <= 0 || N <= 0 || nthreads <= 0) return;
  mc = blockMc(mc);
  kc = blockKc(kc);
  nc = blockNc(nc);

  // Cut the grid of (batch × 4-row groups) × (8-column groups) into pr × pc
  // parts, the split whose largest part is smallest (rows first on ties).
  const rowGroups = ceilDiv(M, MR);
  const rowUnits = batch * rowGroups;
  const colUnits = ceilDiv(N, NR);
  let pr = 1, pc = 1;
  let best = i64.MAX_VALUE;
  const maxPr = min(nthreads, rowUnits);
  for (let r = 1; r <= maxPr; r++) {
    const cParts = min(nthreads / r, colUnits);
    const cost = <i64>ceilDiv(rowUnits, r) * ceilDiv(colUnits, cParts);
    if (cost <= best) { best = cost; pr = r; pc = cParts; }
  }
  if (tid >= pr * pc) return;
  const rowPart = tid / pc, colPart = tid % pc;
  const u0 = shareStart(rowUnits, rowPart, pr), u1 = shareStart(rowUnits, rowPart + 1, pr);
  const n0 = shareStart(colUnits, colPart, pc) * NR, n1 = min(shareStart(colUnits, colPart + 1, pc) * NR, N);
  if (u0 >= u1 || n0 >= n1) return;

  const base = scratch + <usize>tid * <usize>gemmScratchBytes(mc, kc, nc);
  const packedA = base;
  const packedB = packedA + <usize>align64(mc * kc * 4);
  const tile = packedB + <usize>align64(nc * kc * 4);

  // Element strides, in bytes, of A(i, k) along i and k and of B(k, j) along j and k.
  const aRow: usize = transA ? 4 : <usize>K * 4, aDepth: usize = transA ? <usize>M * 4 : 4;
  const bCol: usize = transB ? <usize>K * 4 : 4, bDepth: usize = transB ? 4 : <usize>N * 4;
  const ldc = <usize>N * 4;

  // What the packed-B buffer holds now, so a broadcast B is packed once, not once per batch.
  let packedBFrom: usize = 0, packedBValid = false;

  for (let bi = u0 / rowGroups; bi * rowGroups < u1; bi++) {
    const m0 = max(u0 - bi * rowGroups, 0) * MR;
    const m1 = min(min(u1 - bi * rowGroups, rowGroups) * MR, M);
    const aBatch = a + <usize>bi * <usize>batchStrideA * 4;
    const bBatch = b + <usize>bi * <usize>batchStrideB * 4;
    const cBatch = c + <usize>bi * <usize>batchStrideC * 4;

    if (K <= 0) {
      if (!accumulate) {
        for (let i = m0; i < m1; i++) memory.fill(cBatch + <usize>i * ldc + <usize>n0 * 4, 0, <usize>(n1 - n0) * 4);
      }
      continue;
    }

    for (let jc = n0; jc < n1; jc += nc) {
      const nb = min(nc, n1 - jc);
      for (let p = 0; p < K; p += kc) {
        const kb = min(kc, K - p);
        const bFrom = bBatch + <usize>jc * bCol + <usize>p * bDepth;
        const onlyBlock = nb == n1 - n0 && kb == K;
        if (!(packedBValid && packedBFrom == bFrom && onlyBlock)) {
          packPanels(bFrom, bCol, bDepth, nb, kb, NR, packedB);
          packedBFrom = bFrom;
          packedBValid = onlyBlock;
        }
        const addToC = p > 0 || accumulate != 0;
        for (let ic = m0; ic < m1; ic += mc) {
          const mb = min(mc, m1 - ic);
          packPanels(aBatch + <usize>ic * aRow + <usize>p * aDepth, aRow, aDepth, mb, kb, MR, packedA);
          for (let jr = 0; jr < nb; jr += NR) {
            const bPanel = packedB + <usize>jr * <usize>kb * 4;
            const cols = min(NR, nb - jr);
            for (let ir = 0; ir < mb; ir += MR) {
              microKernel(
                kb, packedA + <usize>ir * <usize>kb * 4, bPanel,
                cBatch + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4, ldc,
                min(MR, mb - ir), cols, addToC, tile,
              );
            }
          }
        }
      }
    }
  }
}

/**
 * Packs `lanes` lanes (rows of A, or columns of B) × kb steps of depth into
 * panels of W lanes, depth-major: out[panel][k][l] = src(panel·W + l, k), zero
 * past the last lane. laneStride and depthStride are the source strides in
 * bytes; one of them is 4 for the dense layouts, so groups of 4 lanes are a
 * v128 copy or a 4×4 transpose. Partial groups go element by element.
 */
function packPanels(src: usize, laneStride: usize, depthStride: usize, lanes: i32, kb: i32, W: i32, out: usize): void {
  const rowBytes = <usize>W * 4; // one depth step of a panel
  for (let l0 = 0; l0 < lanes; l0 += W) {
    const panel = out + <usize>l0 * <usize>kb * 4;
    for (let g = 0; g < W; g += 4) {
      const lane = l0 + g;
      const from = src + <usize>lane * laneStride;
      const to = panel + <usize>g * 4;
      const width = min(4, W - g);
      const valid = min(width, lanes - lane);
      if (valid == 4 && laneStride == 4) {
        for (let k = 0; k < kb; k++) {
          v128.store(to + <usize>k * rowBytes, v128.load(from + <usize>k * depthStride));
        }
      } else if (valid == 4 && depthStride == 4) {
        let k = 0;
        for (; k + 4 <= kb; k += 4) {
          const s = from + <usize>k * 4;
          const r0 = v128.load(s), r1 = v128.load(s + laneStride);
          const r2 = v128.load(s + 2 * laneStride), r3 = v128.load(s + 3 * laneStride);
          const t0 = f32x4.shuffle(r0, r1, 0, 4, 1, 5), t1 = f32x4.shuffle(r2, r3, 0, 4, 1, 5);
          const t2 = f32x4.shuffle(r0, r1, 2, 6, 3, 7), t3 = f32x4.shuffle(r2, r3, 2, 6, 3, 7);
          const d = to + <usize>k * rowBytes;
          v128.store(d, f32x4.shuffle(t0, t1, 0, 1, 4, 5));
          v128.store(d + rowBytes, f32x4.shuffle(t0, t1, 2, 3, 6, 7));
          v128.store(d + 2 * rowBytes, f32x4.shuffle(t2, t3, 0, 1, 4, 5));
          v128.store(d + 3 * rowBytes, f32x4.shuffle(t2, t3, 2, 3, 6, 7));
        }
        for (; k < kb; k++) {
          const s = from + <usize>k * 4, d = to + <usize>k * rowBytes;
          for (let q = 0; q < 4; q++) store<f32>(d + <usize>q * 4, load<f32>(s + <usize>q * laneStride));
        }
      } else {
        for (let k = 0; k < kb; k++) {
          const s = from + <usize>k * depthStride, d = to + <usize>k * rowBytes;
          for (let q = 0; q < width; q++) {
            store<f32>(d + <usize>q * 4, q < valid ? load<f32>(s + <usize>q * laneStride) : 0);
          }
        }
      }
    }
  }
}

/**
 * C[0:rows, 0:cols] (+)= Apanel · Bpanel for one 4×8 micro-tile: Apanel is
 * kb × 4 and Bpanel kb × 8, both packed depth-major; kb ≥ 1. ldc in bytes.
 */
function microKernel(
  kb: i32, pa: usize, pb: usize, c: usize, ldc: usize,
  rows: i32, cols: i32, addToC: bool, tile: usize,
): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // kb - 1 steps in the loop and the last one after it. Peeling the last step
  // (same code) lets V8 hoist the splat loads' address arithmetic out of the
  // loop and keep the loads together: +8% in the SIMD128 build, no change in
  // the relaxed one. Unrolling k instead makes Binaryen nest the FMA chains,
  // which hoists every load of the unrolled steps and spills (-40%).
  const last = pa + <usize>(kb - 1) * MR * 4;
  while (pa < last) {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = fma(a2, b0, c20); c21 = fma(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = fma(a3, b0, c30); c31 = fma(a3, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  {
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    const a0 = v128.load32_splat(pa);
    c00 = fma(a0, b0, c00); c01 = fma(a0, b1, c01);
    const a1 = v128.load32_splat(pa, 4);
    c10 = fma(a1, b0, c10); c11 = fma(a1, b1, c11);
    const a2 = v128.load32_splat(pa, 8);
    c20 = fma(a2, b0, c20); c21 = fma(a2, b1, c21);
    const a3 = v128.load32_splat(pa, 12);
    c30 = fma(a3, b0, c30); c31 = fma(a3, b1, c31);
  }

  const full = rows == MR && cols == NR;
  let out = full ? c : tile;
  const ld = full ? ldc : NR * 4;
  if (full && addToC) {
    v128.store(out, f32x4.add(v128.load(out), c00)); v128.store(out, f32x4.add(v128.load(out, 16), c01), 16);
    out += ld;
    v128.store(out, f32x4.add(v128.load(out), c10)); v128.store(out, f32x4.add(v128.load(out, 16), c11), 16);
    out += ld;
    v128.store(out, f32x4.add(v128.load(out), c20)); v128.store(out, f32x4.add(v128.load(out, 16), c21), 16);
    out += ld;
    v128.store(out, f32x4.add(v128.load(out), c30)); v128.store(out, f32x4.add(v128.load(out, 16), c31), 16);
    return;
  }
  v128.store(out, c00); v128.store(out, c01, 16);
  v128.store(out + ld, c10); v128.store(out + ld, c11, 16);
  v128.store(out + 2 * ld, c20); v128.store(out + 2 * ld, c21, 16);
  v128.store(out + 3 * ld, c30); v128.store(out + 3 * ld, c31, 16);
  if (full) return;

  // Edge tile: copy the valid part out of the scratch tile.
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>r * NR * 4, dst = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j * 4;
      const v = load<f32>(src + o);
      store<f32>(dst + o, addToC ? load<f32>(dst + o) + v : v);
    }
  }
}
