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
// (8-column groups) grid is cut into rowParts × colParts ≤ nthreads pieces, so
// no atomics are needed; each thread packs into its own scratch.
import { fma, shareStart } from './simd';

const MR = 4;
const NR = 8;
// Defaults, measured on AMD EPYC Zen 4 (32 KiB L1d, 1 MiB L2 per core): a
// B micro-panel kc·32 B = 8 KiB stays in L1, packed A mc·kc·4 B = 128 KiB in
// L2, packed B kc·nc·4 B = 1 MiB. Anything from mc 64-256, kc 256-512,
// nc 512-4096 is within 2% at 512-2048³: the micro-kernel is the limit.
const DEFAULT_MC = 128;
const DEFAULT_KC = 256;
const DEFAULT_NC = 1024;

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

  // Cut the grid of (batch × 4-row groups) × (8-column groups) into
  // rowParts × colParts, the split whose largest part is smallest (rows first
  // on ties: a row split packs less A per flop and keeps batches apart).
  const rowGroups = ceilDiv(M, MR);
  const rowUnits = batch * rowGroups;
  const colUnits = ceilDiv(N, NR);
  let rowParts = 1, colParts = 1;
  let best = i64.MAX_VALUE;
  for (let r = 1; r <= min(nthreads, rowUnits); r++) {
    const cParts = min(nthreads / r, colUnits);
    const largest = <i64>ceilDiv(rowUnits, r) * ceilDiv(colUnits, cParts);
    if (largest <= best) { best = largest; rowParts = r; colParts = cParts; }
  }
  if (tid >= rowParts * colParts) return; // more threads than work
  const rowPart = tid / colParts, colPart = tid % colParts;
  const u0 = shareStart(rowUnits, rowPart, rowParts), u1 = shareStart(rowUnits, rowPart + 1, rowParts);
  const n0 = shareStart(colUnits, colPart, colParts) * NR;
  const n1 = min(shareStart(colUnits, colPart + 1, colParts) * NR, N);
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
      for (let pc = 0; pc < K; pc += kc) {
        const kb = min(kc, K - pc);
        const bFrom = bBatch + <usize>jc * bCol + <usize>pc * bDepth;
        const onlyBlock = nb == n1 - n0 && kb == K;
        if (!(packedBValid && packedBFrom == bFrom && onlyBlock)) {
          packPanels(bFrom, bCol, bDepth, nb, kb, NR, packedB);
          packedBFrom = bFrom;
          packedBValid = onlyBlock;
        }
        const addToC = pc > 0 || accumulate != 0;
        for (let ic = m0; ic < m1; ic += mc) {
          const mb = min(mc, m1 - ic);
          packPanels(aBatch + <usize>ic * aRow + <usize>pc * aDepth, aRow, aDepth, mb, kb, MR, packedA);
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
 * bytes; in the dense layouts one of them is 4.
 */
function packPanels(src: usize, laneStride: usize, depthStride: usize, lanes: i32, kb: i32, W: i32, out: usize): void {
  const rowBytes = <usize>W * 4; // one depth step of a panel
  const panelBytes = <usize>kb * rowBytes;
  const full = lanes & -W; // lanes in whole panels (W is 4 or 8)
  // Lane l starts at out + (l >> shift)·panelBytes + (l & mask)·4. (Shifts,
  // not / and %: V8 won't hoist a division out of a loop.)
  const shift = ctz(W);
  const mask = W - 1;
  if (laneStride == 4) {
    // Lanes contiguous (B, or A stored transposed): 32 lanes (two 64-byte
    // lines of a source row) at a time, down the depth. Reading more of each
    // row per visit is what makes this fast: one v128 per row per visit (one
    // panel group walked down the depth) is 6× slower, dealing a whole row out
    // to every panel 3× slower.
    const o1 = <usize>(4 >> shift) * panelBytes + <usize>(4 & mask) * 4; // lane 4 relative to lane 0
    const o2 = <usize>(8 >> shift) * panelBytes + <usize>(8 & mask) * 4;
    const o3 = <usize>(12 >> shift) * panelBytes + <usize>(12 & mask) * 4;
    const o4 = <usize>(16 >> shift) * panelBytes;
    let l = 0;
    for (; l + 32 <= full; l += 32) {
      const from = src + <usize>l * 4;
      const to = out + <usize>(l >> shift) * panelBytes;
      for (let k = 0; k < kb; k++) {
        const s = from + <usize>k * depthStride, d = to + <usize>k * rowBytes;
        v128.store(d, v128.load(s));
        v128.store(d + o1, v128.load(s, 16));
        v128.store(d + o2, v128.load(s, 32));
        v128.store(d + o3, v128.load(s, 48));
        v128.store(d + o4, v128.load(s, 64));
        v128.store(d + o4 + o1, v128.load(s, 80));
        v128.store(d + o4 + o2, v128.load(s, 96));
        v128.store(d + o4 + o3, v128.load(s, 112));
      }
    }
    for (; l < full; l += 4) {
      const from = src + <usize>l * 4;
      const to = out + <usize>(l >> shift) * panelBytes + <usize>(l & mask) * 4;
      for (let k = 0; k < kb; k++) v128.store(to + <usize>k * rowBytes, v128.load(from + <usize>k * depthStride));
    }
  } else if (depthStride == 4) {
    // Depth contiguous (A, or B stored transposed): 4 lanes × 4 steps at a
    // time, transposed in registers.
    for (let l = 0; l < full; l += 4) {
      const from = src + <usize>l * laneStride;
      const to = out + <usize>(l >> shift) * panelBytes + <usize>(l & mask) * 4;
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
    }
  } else {
    packScalar(src, laneStride, depthStride, 0, full, kb, W, out);
  }
  if (full < lanes) packScalar(src, laneStride, depthStride, full, lanes, kb, W, out);
}

/** packPanels element by element for lanes [l0, l1), zero-padding the last panel; l0 is a multiple of W. */
function packScalar(src: usize, laneStride: usize, depthStride: usize, l0: i32, l1: i32, kb: i32, W: i32, out: usize): void {
  for (let p = l0; p < l1; p += W) {
    const panel = out + <usize>p * <usize>kb * 4;
    for (let k = 0; k < kb; k++) {
      const s = src + <usize>k * depthStride, d = panel + <usize>k * <usize>W * 4;
      for (let q = 0; q < W; q++) {
        store<f32>(d + <usize>q * 4, p + q < l1 ? load<f32>(s + <usize>(p + q) * laneStride) : 0);
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

  if (rows == MR && cols == NR) {
    if (addToC) {
      addRow(c, c00, c01); addRow(c + ldc, c10, c11); addRow(c + 2 * ldc, c20, c21); addRow(c + 3 * ldc, c30, c31);
    } else {
      storeRow(c, c00, c01); storeRow(c + ldc, c10, c11); storeRow(c + 2 * ldc, c20, c21); storeRow(c + 3 * ldc, c30, c31);
    }
    return;
  }
  storeRow(tile, c00, c01); storeRow(tile + 32, c10, c11); storeRow(tile + 64, c20, c21); storeRow(tile + 96, c30, c31);
  // Edge tile: the valid part of the scratch tile goes to C.
  for (let r = 0; r < rows; r++) {
    const src = tile + <usize>r * NR * 4, dst = c + <usize>r * ldc;
    for (let j = 0; j < cols; j++) {
      const o = <usize>j * 4;
      const v = load<f32>(src + o);
      store<f32>(dst + o, addToC ? load<f32>(dst + o) + v : v);
    }
  }
}

// @ts-ignore: decorator
@inline function storeRow(p: usize, lo: v128, hi: v128): void {
  v128.store(p, lo);
  v128.store(p, hi, 16);
}

// @ts-ignore: decorator
@inline function addRow(p: usize, lo: v128, hi: v128): void {
  v128.store(p, f32x4.add(v128.load(p), lo));
  v128.store(p, f32x4.add(v128.load(p, 16), hi), 16);
}
