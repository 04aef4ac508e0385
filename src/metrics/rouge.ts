// ROUGE-1, ROUGE-2 and ROUGE-L F1 as Google's rouge-score package computes
// them with its defaults: lower-case, every run of characters outside
// [a-z0-9] becomes a space, no stemming; n-gram overlap clipped by counts;
// ROUGE-L from the longest common subsequence of the token lists. Corpus
// scores are the mean of the per-pair scores. Checked against fixtures.

export interface RougeScore {
  precision: number;
  recall: number;
  f1: number;
}

export interface RougeScores {
  rouge1: RougeScore;
  rouge2: RougeScore;
  rougeL: RougeScore;
}

export function rougeTokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .split(/\s+/)
    .filter((t) => /^[a-z0-9]+$/.test(t));
}

function score(overlap: number, predictionCount: number, targetCount: number): RougeScore {
  const precision = overlap / Math.max(predictionCount, 1);
  const recall = overlap / Math.max(targetCount, 1);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

function ngrams(tokens: string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join(' ');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export function rougeN(target: string[], prediction: string[], n: number): RougeScore {
  const t = ngrams(target, n);
  const p = ngrams(prediction, n);
  let overlap = 0;
  for (const [key, count] of t) overlap += Math.min(count, p.get(key) ?? 0);
  return score(overlap, Math.max(prediction.length - n + 1, 0), Math.max(target.length - n + 1, 0));
}

/** Length of the longest common subsequence (two-row dynamic programme). */
export function lcsLength(a: readonly string[], b: readonly string[]): number {
  let previous = new Array<number>(b.length + 1).fill(0);
  let current = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      current[j] = a[i - 1] === b[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], current[j - 1]);
    }
    [previous, current] = [current, previous];
  }
  return previous[b.length];
}

export function rougeL(target: string[], prediction: string[]): RougeScore {
  if (target.length === 0 || prediction.length === 0) return { precision: 0, recall: 0, f1: 0 };
  return score(lcsLength(target, prediction), prediction.length, target.length);
}

/** Scores of one prediction against its target (rouge-score's `score(target, prediction)`). */
export function rouge(target: string, prediction: string): RougeScores {
  const t = rougeTokenize(target);
  const p = rougeTokenize(prediction);
  return { rouge1: rougeN(t, p, 1), rouge2: rougeN(t, p, 2), rougeL: rougeL(t, p) };
}

/** Mean F1 (and precision, recall) over pairs, each in [0, 1]. */
export function corpusRouge(targets: readonly string[], predictions: readonly string[]): RougeScores {
  if (targets.length !== predictions.length) {
    throw new Error(
      `corpusRouge: expected as many predictions as targets, got ${predictions.length} predictions for ${targets.length} targets`,
    );
  }
  const sum = {
    rouge1: { precision: 0, recall: 0, f1: 0 },
    rouge2: { precision: 0, recall: 0, f1: 0 },
    rougeL: { precision: 0, recall: 0, f1: 0 },
  };
  for (let i = 0; i < targets.length; i++) {
    const s = rouge(targets[i], predictions[i]);
    for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
      sum[k].precision += s[k].precision;
      sum[k].recall += s[k].recall;
      sum[k].f1 += s[k].f1;
    }
  }
  const n = Math.max(targets.length, 1);
  for (const k of ['rouge1', 'rouge2', 'rougeL'] as const) {
    sum[k].precision /= n;
    sum[k].recall /= n;
    sum[k].f1 /= n;
  }
  return sum;
}
