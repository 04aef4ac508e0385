// The argument slots of the addon's GEMM entry point, in the order native/args.h
// lists them (a test compares this with the addon's own `argLayouts`). Each
// call fills one Float64Array: tensors as byte offsets into the heap. The
// attention kernels read the schema's block instead (attention-block.ts).

export const GEMM_ARGS = [
  'a',
  'b',
  'c',
  'batch',
  'M',
  'N',
  'K',
  'batchStrideA',
  'batchStrideB',
  'transA',
  'transB',
  'accumulate',
  'mc',
  'kc',
  'nc',
  'threads',
] as const;

/** The row kernels' slots (native/args.h ROW_ARGS). */
export const ROW_ARGS = [
  'op',
  'x',
  'y',
  'dy',
  'dx',
  'gamma',
  'beta',
  'mean',
  'rstd',
  'dgamma',
  'dbeta',
  'rows',
  'cols',
  'flag',
  'eps',
  'threads',
] as const;

export type GemmArg = (typeof GEMM_ARGS)[number];

/** An argument block and a typed setter over it (unset slots are 0). */
export class ArgBlock<Name extends string> {
  readonly values: Float64Array;
  private readonly index: Readonly<Record<Name, number>>;

  constructor(names: readonly Name[]) {
    this.values = new Float64Array(names.length);
    this.index = Object.fromEntries(names.map((n, i) => [n, i])) as Record<Name, number>;
  }

  /** Clears every slot, then sets the given ones. */
  fill(values: Partial<Record<Name, number | boolean>>): Float64Array {
    this.values.fill(0);
    for (const name of Object.keys(values) as Name[]) {
      const v = values[name];
      if (v !== undefined) this.values[this.index[name] as number] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
    }
    return this.values;
  }
}
