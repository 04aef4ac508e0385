// Row kernels on native/rows.cc: softmax / log-softmax over the last axis and
// their gradients, LayerNorm / RMSNorm and theirs. A softmax over another axis
// (inner > 1) goes to the backend's fallback through the registry.

import { getHeap, type Tensor } from '../../tensor/tensor.js';
import { type Backend, fallbackKernel, referenceKernel } from '../backend.js';
import type { AxisParams, KernelTable, NormParams } from '../kernels.js';
import { type KernelSettings, threadsFor } from '../settings.js';
import type { NativeAddon } from './addon.js';
import { ArgBlock, ROW_ARGS } from './args.js';

const ROW_OP = { softmax: 0, softmaxGrad: 1, norm: 2, normGrad: 3 } as const;
/** Threads: one per settings 'rows' grain elements (memory-bound: a thread must get enough to pay its wake-up). */
export function rowKernels(addon: NativeAddon, settings: KernelSettings, backend: () => Backend, maxThreads: () => number) {
  const args = new ArgBlock(ROW_ARGS);
  const other = <K extends keyof KernelTable>(name: K): KernelTable[K] => fallbackKernel(backend(), name) ?? referenceKernel(name);
  const threads = (elements: number) => threadsFor(elements, settings.get('rows', null).grain as number, maxThreads());

  const kernels: Pick<KernelTable, 'softmax' | 'softmaxGrad' | 'norm' | 'normGrad'> = {
    softmax(x: Tensor, out: Tensor, p: AxisParams & { log: boolean }): void {
      if (p.inner !== 1) {
        other('softmax')(x, out, p);
        return;
      }
      const rows = p.outer;
      const cols = p.axisSize;
      addon.rows(
        getHeap().u8(),
        args.fill({ op: ROW_OP.softmax, x: x.ptr, y: out.ptr, rows, cols, flag: p.log, threads: threads(rows * cols) }),
      );
    },

    softmaxGrad(y: Tensor, dy: Tensor, dx: Tensor, p: AxisParams & { log: boolean }): void {
      if (p.inner !== 1) {
        other('softmaxGrad')(y, dy, dx, p);
        return;
      }
      const rows = p.outer;
      const cols = p.axisSize;
      addon.rows(
        getHeap().u8(),
        args.fill({ op: ROW_OP.softmaxGrad, y: y.ptr, dy: dy.ptr, dx: dx.ptr, rows, cols, flag: p.log, threads: threads(rows * cols) }),
      );
    },

    norm(x: Tensor, gamma: Tensor, beta: Tensor | null, out: Tensor, mean: Tensor, rstd: Tensor, p: NormParams): void {
      addon.rows(
        getHeap().u8(),
        args.fill({
          op: ROW_OP.norm,
          x: x.ptr,
          gamma: gamma.ptr,
          beta: beta ? beta.ptr : 0,
          y: out.ptr,
          mean: mean.ptr,
          rstd: rstd.ptr,
          rows: p.rows,
          cols: p.cols,
          flag: p.rms,
          eps: p.eps,
          threads: threads(p.rows * p.cols),
        }),
      );
    },

    normGrad(
      x: Tensor,
      gamma: Tensor,
      mean: Tensor,
      rstd: Tensor,
      dy: Tensor,
      dx: Tensor,
      dgamma: Tensor,
      dbeta: Tensor | null,
      p: NormParams,
    ): void {
      addon.rows(
        getHeap().u8(),
        args.fill({
          op: ROW_OP.normGrad,
          x: x.ptr,
          gamma: gamma.ptr,
          mean: mean.ptr,
          rstd: rstd.ptr,
          dy: dy.ptr,
          dx: dx.ptr,
          dgamma: dgamma.ptr,
          dbeta: dbeta ? dbeta.ptr : 0,
          rows: p.rows,
          cols: p.cols,
          flag: p.rms,
          threads: threads(p.rows * p.cols),
        }),
      );
    },
  };
  return kernels;
}
