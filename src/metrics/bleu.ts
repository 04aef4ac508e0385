// Corpus BLEU as sacreBLEU computes it by default: mteval-v13a tokenisation,
// case-sensitive, 4-gram, one reference per segment, exponential ("exp",
// NIST) smoothing of zero n-gram matches, brevity penalty over the corpus.
// Score in [0, 100]. Checked against fixtures from nltk (test/metrics/).

/** Python's str.split() whitespace (sacreBLEU splits with it), which differs from JS's \s at U+001C-001F, U+0085, U+FEFF. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python's whitespace includes U+001C-001F
const PY_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above
const PY_TRAILING_WHITESPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/;

/** mteval-v13a tokenisation (sacreBLEU's `13a`): separates punctuation and symbols, keeps decimals and thousands together. */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  s = ` ${s} `;
  s = s.replace(/([{-~[-` -&(-+:-@/])/g, ' $1 ');
  s = s.replace(/([^0-9])([.,])/g, '$1 $2 ');
  s = s.replace(/([.,])([^0-9])/g, ' $1 $2');
  s = s.replace(/([0-9])(-)/g, '$1 $2 ');
  return s
    .split(PY_WHITESPACE)
    .filter((t) => t.length > 0)
    .join(' ');
}

export interface BleuOptions {
  /** Lower-case hypotheses and references first (sacreBLEU --lowercase; default false). */
  lowercase?: boolean;
  /** Highest n-gram order (default 4). */
  maxOrder?: number;
}

export interface BleuScore {
  /** BLEU in [0, 100]. */
  score: number;
  /** n-gram precisions in percent, after smoothing. */
  precisions: number[];
  brevityPenalty: number;
  hypothesisLength: number;
  referenceLength: number;
  /** Matched and total hypothesis n-grams per order (the sufficient statistics). */
  correct: number[];
  total: number[];
}

function ngramCounts(tokens: string[], maxOrder: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let n = 1; n <= maxOrder; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = `${n}\u0001${tokens.slice(i, i + n).join('\u0001')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function segmentTokens(text: string, lowercase: boolean): string[] {
  const s = tokenize13a((lowercase ? text.toLowerCase() : text).replace(PY_TRAILING_WHITESPACE, ''));
  return s === '' ? [] : s.split(' ');
}

export function corpusBleu(hypotheses: readonly string[], references: readonly string[], options: BleuOptions = {}): BleuScore {
  if (hypotheses.length !== references.length) {
    throw new Error(
      `corpusBleu: expected as many references as hypotheses, got ${references.length} references for ${hypotheses.length} hypotheses`,
    );
  }
  const maxOrder = options.maxOrder ?? 4;
  const lowercase = options.lowercase ?? false;
  const correct = new Array<number>(maxOrder).fill(0);
  const total = new Array<number>(maxOrder).fill(0);
  let hypothesisLength = 0;
  let referenceLength = 0;
  for (let s = 0; s < hypotheses.length; s++) {
    const hyp = segmentTokens(hypotheses[s], lowercase);
    const ref = segmentTokens(references[s], lowercase);
    hypothesisLength += hyp.length;
    referenceLength += ref.length;
    const refCounts = ngramCounts(ref, maxOrder);
    for (const [key, count] of ngramCounts(hyp, maxOrder)) {
      const n = Number.parseInt(key, 10) - 1;
      total[n] += count;
      correct[n] += Math.min(count, refCounts.get(key) ?? 0);
    }
  }
  return bleuFromStatistics(correct, total, hypothesisLength, referenceLength);
}

/** BLEU from summed statistics, with exp smoothing (each zero-match order k gets 100 / (2^k · total)). */
export function bleuFromStatistics(correct: number[], total: number[], hypothesisLength: number, referenceLength: number): BleuScore {
  const maxOrder = correct.length;
  const brevityPenalty =
    hypothesisLength < referenceLength ? (hypothesisLength > 0 ? Math.exp(1 - referenceLength / hypothesisLength) : 0) : 1;
  const precisions = new Array<number>(maxOrder).fill(0);
  const result = { precisions, brevityPenalty, hypothesisLength, referenceLength, correct: [...correct], total: [...total] };
  if (!correct.some((c) => c > 0)) return { score: 0, ...result };
  let smooth = 1;
  for (let n = 0; n < maxOrder; n++) {
    if (total[n] === 0) return { score: 0, ...result }; // a hypothesis side without n-grams of this order
    if (correct[n] === 0) {
      smooth *= 2;
      precisions[n] = 100 / (smooth * total[n]);
    } else precisions[n] = (100 * correct[n]) / total[n];
  }
  const meanLog = precisions.reduce((acc, p) => acc + Math.log(p), 0) / maxOrder;
  return { score: brevityPenalty * Math.exp(meanLog), ...result };
}
