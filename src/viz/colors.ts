// Colour scales for the pictures: a perceptually ordered sequential scale for
// weights (dark = 0, bright = max) and distinct hues for heads.

/** Control points of a viridis-like scale (sampled at 0, 1/8, …, 1), as [r, g, b]. */
const SEQUENTIAL: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

/** The sequential colour of t ∈ [0, 1] (clamped; NaN is drawn grey). */
export function sequentialColor(t: number): [number, number, number] {
  if (Number.isNaN(t)) return [128, 128, 128];
  const x = Math.min(1, Math.max(0, t)) * (SEQUENTIAL.length - 1);
  const i = Math.min(SEQUENTIAL.length - 2, Math.floor(x));
  const f = x - i;
  const a = SEQUENTIAL[i];
  const b = SEQUENTIAL[i + 1];
  return [Math.round(a[0] + f * (b[0] - a[0])), Math.round(a[1] + f * (b[1] - a[1])), Math.round(a[2] + f * (b[2] - a[2]))];
}

/** Tableau-10 style hues, one per head (cycled past ten). */
export const HEAD_COLORS: readonly string[] = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export function headColor(head: number): string {
  return HEAD_COLORS[head % HEAD_COLORS.length];
}

export function toHex([r, g, b]: readonly [number, number, number]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}
