// Greedy and beam search over any step-wise decoder (a Seq2SeqTransformer on
// its KV cache, or a hand-built table in the tests). Both are batched: all
// rows advance together, one token per step, so with a cache a step costs
// O(current length) attention per row.
//
// Beam search: each source keeps `beamSize` live rows; a step takes the
// 2·beamSize best extensions of all its beams; an extension ending in </s>
// among the best beamSize joins the finished list (the beamSize best are
// kept), the others refill the beams. Hypotheses are ranked by sum of
// log-probabilities / length^lengthPenalty (length counts the </s>, as
// fairseq's --lenpen). A source is done when its finished list is full and
// every finished hypothesis is more probable than the best live beam (exact
// for lengthPenalty 0, where scores only fall; beam width 1 is greedy search
// for any lengthPenalty), or at maxLength, where the live beams are finished as they
// stand. (Stopping as soon as beamSize hypotheses end, as fairseq does, lets
// improbable early endings crowd out the best hypothesis.)

/** A decoder advanced one token per row per step. */
export interface StepDecoder {
  /** Rows decoded together (sources × beams). */
  readonly rows: number;
  readonly vocabSize: number;
  /** Feeds one token per row; returns next-token log-probabilities, row-major [rows, vocabSize]. */
  step(tokens: Int32Array): Float32Array;
  /** Row r continues what old row indices[r] held (beam search). */
  reorder(indices: Int32Array): void;
  dispose(): void;
}

export interface SearchOptions {
  bosId: number;
  eosId: number;
  /** Most tokens generated per sentence, </s> included (default 128). */
  maxLength?: number;
}

export interface BeamOptions extends SearchOptions {
  beamSize: number;
  /** Exponent α of the length normalisation score / length^α (default 1; 0 = raw log-probability). */
  lengthPenalty?: number;
}

export interface Hypothesis {
  /** Generated ids without <s> and </s>. */
  tokens: number[];
  /** Sum of the log-probabilities, </s> included when it was generated. */
  logProbability: number;
  /** The ranking score (greedy: the log-probability). */
  score: number;
}

function checkMaxLength(maxLength: number, where: string): void {
  if (!Number.isInteger(maxLength) || maxLength < 1) throw new Error(`${where}: maxLength must be an integer ≥ 1, got ${maxLength}`);
}

/** Most probable token at each step; `decoder.rows` sentences. */
export function greedySearch(decoder: StepDecoder, options: SearchOptions): Hypothesis[] {
  const { bosId, eosId, maxLength = 128 } = options;
  checkMaxLength(maxLength, 'greedySearch');
  const rows = decoder.rows;
  const V = decoder.vocabSize;
  const out: Hypothesis[] = Array.from({ length: rows }, () => ({ tokens: [], logProbability: 0, score: 0 }));
  const done = new Uint8Array(rows);
  let tokens = new Int32Array(rows).fill(bosId);
  for (let t = 0; t < maxLength && done.includes(0); t++) {
    const logProbs = decoder.step(tokens);
    tokens = new Int32Array(rows).fill(eosId);
    for (let r = 0; r < rows; r++) {
      if (done[r]) continue;
      let best = 0;
      for (let v = 1; v < V; v++) if (logProbs[r * V + v] > logProbs[r * V + best]) best = v;
      out[r].logProbability += logProbs[r * V + best];
      if (best === eosId) done[r] = 1;
      else out[r].tokens.push(best);
      tokens[r] = best;
    }
  }
  for (const h of out) h.score = h.logProbability;
  return out;
}

/** Beam search; `decoder.rows` must be sources × beamSize, each source's beams adjacent. */
export function beamSearch(decoder: StepDecoder, options: BeamOptions): Hypothesis[] {
  const { bosId, eosId, beamSize: K, maxLength = 128, lengthPenalty = 1 } = options;
  checkMaxLength(maxLength, 'beamSearch');
  if (!Number.isInteger(K) || K < 1) throw new Error(`beamSearch: beamSize must be an integer ≥ 1, got ${K}`);
  if (decoder.rows % K !== 0) throw new Error(`beamSearch: decoder rows ${decoder.rows} are not a multiple of beamSize ${K}`);
  const B = decoder.rows / K;
  const V = decoder.vocabSize;
  const normalise = (logProbability: number, length: number) => logProbability / length ** lengthPenalty;
  // Live beams: their tokens and log-probabilities; only beam 0 is live at the start.
  let beamTokens: number[][] = Array.from({ length: B * K }, () => []);
  let beamScores = Float64Array.from({ length: B * K }, (_, r) => (r % K === 0 ? 0 : Number.NEGATIVE_INFINITY));
  const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);
  let tokens = new Int32Array(B * K).fill(bosId);
  for (let t = 0; t < maxLength && done.includes(0); t++) {
    const logProbs = decoder.step(tokens);
    const nextTokens: number[][] = beamTokens.slice();
    const nextScores = beamScores.slice();
    const reorder = Int32Array.from({ length: B * K }, (_, r) => r);
    tokens = new Int32Array(B * K).fill(eosId);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      const candidates = topCandidates(logProbs, beamScores, b, K, V, 2 * K);
      let filled = 0;
      for (let rank = 0; rank < candidates.length && filled < K; rank++) {
        const { beam, token, score } = candidates[rank];
        if (token === eosId) {
          if (rank < K) {
            const seq = beamTokens[b * K + beam];
            addFinished(finished[b], { tokens: seq.slice(), logProbability: score, score: normalise(score, seq.length + 1) }, K);
          }
          continue;
        }
        const row = b * K + filled;
        nextTokens[row] = [...beamTokens[b * K + beam], token];
        nextScores[row] = score;
        reorder[row] = b * K + beam;
        tokens[row] = token;
        filled++;
      }
      let bestLive = Number.NEGATIVE_INFINITY;
      for (let k = 0; k < filled; k++) bestLive = Math.max(bestLive, nextScores[b * K + k]);
      for (; filled < K; filled++) nextScores[b * K + filled] = Number.NEGATIVE_INFINITY;
      // Done when the list is full and no live beam is more probable than any finished hypothesis.
      const full = finished[b].length >= K;
      if (full && finished[b].every((h) => h.logProbability >= bestLive)) done[b] = 1;
    }
    beamTokens = nextTokens;
    beamScores = nextScores;
    decoder.reorder(reorder);
  }
  return finished.map((hyps, b) => {
    if (!done[b]) {
      // maxLength reached: the live beams are finished as they stand.
      for (let k = 0; k < K; k++) {
        const score = beamScores[b * K + k];
        if (score === Number.NEGATIVE_INFINITY) continue;
        const seq = beamTokens[b * K + k];
        addFinished(hyps, { tokens: seq.slice(), logProbability: score, score: normalise(score, Math.max(seq.length, 1)) }, K);
      }
    }
    return hyps[0];
  });
}

/** Inserts h into the list sorted best first, keeping at most `size`. */
function addFinished(list: Hypothesis[], h: Hypothesis, size: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1].score < h.score) i--;
  list.splice(i, 0, h);
  if (list.length > size) list.pop();
}

interface Candidate {
  beam: number;
  token: number;
  score: number;
}

/** The `count` best (beam, token) extensions of source b, best first (ties: lower beam, then lower token). */
function topCandidates(logProbs: Float32Array, beamScores: Float64Array, b: number, K: number, V: number, count: number): Candidate[] {
  const top: Candidate[] = [];
  for (let k = 0; k < K; k++) {
    const base = beamScores[b * K + k];
    if (base === Number.NEGATIVE_INFINITY) continue;
    const offset = (b * K + k) * V;
    for (let v = 0; v < V; v++) {
      const score = base + logProbs[offset + v];
      if (top.length === count && score <= top[count - 1].score) continue;
      let i = top.length < count ? top.length : count - 1;
      if (top.length < count) top.push({ beam: k, token: v, score });
      else top[i] = { beam: k, token: v, score };
      while (i > 0 && top[i - 1].score < top[i].score) {
        [top[i - 1], top[i]] = [top[i], top[i - 1]];
        i--;
      }
    }
  }
  return top;
}
