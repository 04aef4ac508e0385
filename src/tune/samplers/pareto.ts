// Pareto tools shared by the multi-objective samplers: non-dominated sorting (with Deb's
// constrained domination), crowding distance and the hypervolume of a 2-D front.
// Every objective vector here is already turned into one to minimize.

/** a dominates b (all objectives minimized): no worse anywhere, better somewhere. */
export function dominatesMin(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/**
 * Deb's constrained domination: a feasible point beats an infeasible one; of two infeasible
 * points the smaller total violation wins; two feasible points compare by Pareto domination.
 * `violations` null means no constraints.
 */
export function constrainedDominates(
  a: number,
  b: number,
  values: readonly ArrayLike<number>[],
  violations: ArrayLike<number> | null,
): boolean {
  if (violations !== null) {
    const va = violations[a]!;
    const vb = violations[b]!;
    if (va === 0 && vb > 0) return true;
    if (va > 0 && vb === 0) return false;
    if (va > 0 && vb > 0) return va < vb;
  }
  return dominatesMin(values[a]!, values[b]!);
}

/** Fronts of indices (front 0 = non-dominated), fast non-dominated sort, O(M·N²). */
export function nonDominatedSort(values: readonly ArrayLike<number>[], violations: ArrayLike<number> | null = null): number[][] {
  const n = values.length;
  const dominatedBy = new Int32Array(n);
  const dominates: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (constrainedDominates(i, j, values, violations)) {
        dominates[i]!.push(j);
        dominatedBy[j]!++;
      } else if (constrainedDominates(j, i, values, violations)) {
        dominates[j]!.push(i);
        dominatedBy[i]!++;
      }
    }
  }
  const fronts: number[][] = [];
  let current: number[] = [];
  for (let i = 0; i < n; i++) if (dominatedBy[i] === 0) current.push(i);
  while (current.length > 0) {
    fronts.push(current);
    const next: number[] = [];
    for (const i of current) {
      for (const j of dominates[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    current = next;
  }
  return fronts;
}

/** Crowding distance of each member of one front (boundary points get +∞). */
export function crowdingDistance(front: readonly number[], values: readonly ArrayLike<number>[]): Map<number, number> {
  const dist = new Map<number, number>();
  for (const i of front) dist.set(i, 0);
  if (front.length <= 2) {
    for (const i of front) dist.set(i, Number.POSITIVE_INFINITY);
    return dist;
  }
  const m = values[front[0]!]!.length;
  for (let o = 0; o < m; o++) {
    const sorted = [...front].sort((a, b) => values[a]![o]! - values[b]![o]! || a - b);
    const lo = values[sorted[0]!]![o]!;
    const hi = values[sorted[sorted.length - 1]!]![o]!;
    dist.set(sorted[0]!, Number.POSITIVE_INFINITY);
    dist.set(sorted[sorted.length - 1]!, Number.POSITIVE_INFINITY);
    if (hi === lo) continue;
    for (let k = 1; k < sorted.length - 1; k++) {
      const i = sorted[k]!;
      dist.set(i, dist.get(i)! + (values[sorted[k + 1]!]![o]! - values[sorted[k - 1]!]![o]!) / (hi - lo));
    }
  }
  return dist;
}

/**
 * The `count` best indices by non-domination rank, the last partial front cut by crowding
 * distance (largest first, ties by index): NSGA-II's elitist selection.
 */
export function selectElite(values: readonly ArrayLike<number>[], violations: ArrayLike<number> | null, count: number): number[] {
  const chosen: number[] = [];
  for (const front of nonDominatedSort(values, violations)) {
    if (chosen.length + front.length <= count) {
      chosen.push(...front);
      if (chosen.length === count) break;
      continue;
    }
    const dist = crowdingDistance(front, values);
    const ordered = [...front].sort((a, b) => dist.get(b)! - dist.get(a)! || a - b);
    chosen.push(...ordered.slice(0, count - chosen.length));
    break;
  }
  return chosen;
}

/** Hypervolume dominated by 2-D points (both minimized) up to the reference point. */
export function hypervolume2d(points: readonly ArrayLike<number>[], reference: readonly [number, number]): number {
  const inside = points.filter((p) => p[0]! < reference[0] && p[1]! < reference[1]).sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let volume = 0;
  let bestY = reference[1];
  for (const p of inside) {
    if (p[1]! >= bestY) continue;
    volume += (reference[0] - p[0]!) * (bestY - p[1]!);
    bestY = p[1]!;
  }
  return volume;
}
