// Seeded randomness: the same seed gives the same numbers everywhere.
// xoshiro128** for streams, splitmix32 to expand a seed into its state.

/** A generator's state as plain JSON. */
export interface RngState {
  words: number[];
  spareNormal: number | null;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spareNormal: number | null = null;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** The generator's full state (four words and the spare normal), for checkpoints. */
  getState(): RngState {
    return { words: [this.s0, this.s1, this.s2, this.s3], spareNormal: this.spareNormal };
  }

  /** Restores a state from getState(): the stream continues exactly where it was. */
  setState(state: RngState): void {
    const { words, spareNormal } = state;
    if (words.length !== 4 || words.some((w) => !Number.isInteger(w)))
      throw new Error(`Rng: a state has 4 integer words, got ${JSON.stringify(words)}`);
    [this.s0, this.s1, this.s2, this.s3] = words.map((w) => w | 0) as [number, number, number, number];
    this.spareNormal = spareNormal;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Standard normal (Box-Muller, both values used). */
  normal(): number {
    if (this.spareNormal !== null) {
      const v = this.spareNormal;
      this.spareNormal = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

let globalRng = new Rng(0x5eed);

/** Reseeds the generator used when an op is given no seed of its own. */
export function manualSeed(seed: number): void {
  globalRng = new Rng(seed);
}

/** The state of the global generator (what ops without a seed draw from), for checkpoints. */
export function getRngState(): RngState {
  return globalRng.getState();
}

export function setRngState(state: RngState): void {
  globalRng.setState(state);
}

/** A generator for one call: its own seed when given, else drawn from the global stream. */
export function rngFor(seed: number | undefined): Rng {
  return new Rng(seed ?? globalRng.nextU32());
}
