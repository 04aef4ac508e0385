// A byte-pair-encoding subword tokenizer with byte fallback (SentencePiece's
// idea on a GPT-2-style pre-split): text is cut into chunks (a word with its
// leading space, a number, a run of punctuation, a run of whitespace), each
// chunk into characters, and learned merges join neighbours by rank. A
// character outside the vocabulary becomes its UTF-8 bytes (WTF-8 for a lone
// surrogate), so nothing is unknown and decode(encode(s)) === s for any string.
//
// Ids: the special tokens first (<pad> 0, <s> 1, </s> 2), then the 256 byte
// tokens, then the pieces (characters, then one per merge, in merge order).
// Training lives in tokenizer-train.ts.

/** Word with its leading space | number | punctuation run | whitespace run (the last space left to the next word). */
export const PRE_SPLIT = / ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{M}\p{N}]+|\s+(?!\S)|\s+/gu;

export const DEFAULT_SPECIALS = ['<pad>', '<s>', '</s>'] as const;

export interface BpeTokenizerJSON {
  type: 'bpe';
  version: 1;
  specials: string[];
  /** Pieces after the specials and the 256 bytes: the characters, then the merge results (each text once). */
  pieces: string[];
  /** Merges in rank order, each joining two pieces (by text) into the piece spelt by both. */
  merges: Array<[string, string]>;
}

export interface EncodeOptions {
  /** Prepend <s>. */
  addBos?: boolean;
  /** Append </s>. */
  addEos?: boolean;
}

const pairKey = (a: number, b: number): number => a * 0x100000 + b;

export class BpeTokenizer {
  readonly specials: readonly string[];
  readonly padId = 0;
  readonly bosId = 1;
  readonly eosId = 2;
  private readonly pieces: string[];
  private readonly pieceIds = new Map<string, number>();
  private readonly merges: Array<[string, string]>;
  /** (left id, right id) -> rank and merged id. */
  private readonly mergeRanks = new Map<number, { rank: number; id: number }>();
  private readonly cache = new Map<string, number[]>();
  private readonly byteBase: number;
  private readonly pieceBase: number;

  constructor(json: BpeTokenizerJSON) {
    if (json.type !== 'bpe' || json.version !== 1) {
      throw new Error(
        `BpeTokenizer: expected { type: 'bpe', version: 1 }, got { type: ${JSON.stringify(json.type)}, version: ${json.version} }`,
      );
    }
    if (json.specials.length < 3)
      throw new Error(`BpeTokenizer: expected at least 3 specials (<pad>, <s>, </s>), got ${json.specials.length}`);
    this.specials = [...json.specials];
    this.byteBase = this.specials.length;
    this.pieceBase = this.byteBase + 256;
    this.pieces = [...json.pieces];
    this.merges = json.merges.map(([a, b]) => [a, b]);
    this.pieces.forEach((p, i) => {
      if (this.pieceIds.has(p)) throw new Error(`BpeTokenizer: piece ${JSON.stringify(p)} appears twice`);
      this.pieceIds.set(p, this.pieceBase + i);
    });
    this.merges.forEach(([a, b], rank) => {
      const left = this.pieceIds.get(a);
      const right = this.pieceIds.get(b);
      const merged = this.pieceIds.get(a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        throw new Error(`BpeTokenizer: merge ${rank} (${JSON.stringify(a)} + ${JSON.stringify(b)}) does not match the piece list`);
      }
      this.mergeRanks.set(pairKey(left, right), { rank, id: merged });
    });
  }

  get vocabSize(): number {
    return this.pieceBase + this.pieces.length;
  }

  /** Text of a token id: the special's name, `<0xAB>` for a byte, else the piece. */
  idToPiece(id: number): string {
    if (id < 0 || id >= this.vocabSize || !Number.isInteger(id))
      throw new Error(`BpeTokenizer: id ${id} is outside [0, ${this.vocabSize})`);
    if (id < this.byteBase) return this.specials[id];
    if (id < this.pieceBase) return `<0x${(id - this.byteBase).toString(16).toUpperCase().padStart(2, '0')}>`;
    return this.pieces[id - this.pieceBase];
  }

  isSpecial(id: number): boolean {
    return id >= 0 && id < this.byteBase;
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    const ids: number[] = [];
    if (options.addBos) ids.push(this.bosId);
    for (const match of text.matchAll(PRE_SPLIT)) {
      for (const id of this.encodeChunk(match[0])) ids.push(id);
    }
    if (options.addEos) ids.push(this.eosId);
    return ids;
  }

  /** Concatenates the pieces; byte tokens are decoded as UTF-8 (WTF-8) runs; specials are skipped unless asked. */
  decode(ids: ArrayLike<number>, { skipSpecials = true } = {}): string {
    let out = '';
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (id >= this.byteBase && id < this.pieceBase) {
        bytes.push(id - this.byteBase);
        continue;
      }
      if (bytes.length > 0) out += decodeWtf8(bytes.splice(0));
      if (id < this.byteBase) {
        if (!skipSpecials) out += this.idToPiece(id);
      } else out += this.idToPiece(id);
    }
    if (bytes.length > 0) out += decodeWtf8(bytes);
    return out;
  }

  toJSON(): BpeTokenizerJSON {
    return { type: 'bpe', version: 1, specials: [...this.specials], pieces: [...this.pieces], merges: this.merges.map(([a, b]) => [a, b]) };
  }

  static fromJSON(json: BpeTokenizerJSON | string): BpeTokenizer {
    return new BpeTokenizer(typeof json === 'string' ? (JSON.parse(json) as BpeTokenizerJSON) : json);
  }

  /** Initial symbols of a chunk: piece ids of known characters, byte ids for the rest. */
  initialSymbols(chunk: string): number[] {
    const symbols: number[] = [];
    for (const ch of chunk) {
      const id = this.pieceIds.get(ch);
      if (id !== undefined) symbols.push(id);
      else for (const b of encodeWtf8(ch)) symbols.push(this.byteBase + b);
    }
    return symbols;
  }

  private encodeChunk(chunk: string): number[] {
    const cached = this.cache.get(chunk);
    if (cached) return cached;
    const symbols = this.initialSymbols(chunk);
    // Repeatedly merge the adjacent pair of lowest rank (chunks are short).
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Number.POSITIVE_INFINITY;
      let bestId = -1;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const m = this.mergeRanks.get(pairKey(symbols[i], symbols[i + 1]));
        if (m && m.rank < bestRank) {
          bestRank = m.rank;
          best = i;
          bestId = m.id;
        }
      }
      if (best < 0) break;
      symbols.splice(best, 2, bestId);
    }
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(chunk, symbols);
    return symbols;
  }
}

/** UTF-8 bytes of one code point; a lone surrogate gets its 3-byte WTF-8 form so it survives the round trip. */
export function encodeWtf8(ch: string): number[] {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 63)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
  return [0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63)];
}

/** Decodes UTF-8/WTF-8; a malformed byte (a model can emit any) becomes U+FFFD. */
export function decodeWtf8(bytes: number[]): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const need = b < 0x80 ? 0 : b >= 0xc0 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf8 ? 3 : -1;
    if (need < 0 || i + need >= bytes.length) {
      out += '\uFFFD';
      i++;
      continue;
    }
    let cp = need === 0 ? b : b & (0x3f >> need);
    let ok = true;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (c & 63);
    }
    if (!ok || cp > 0x10ffff) {
      out += '\uFFFD';
      i++;
      continue;
    }
    out += String.fromCodePoint(cp);
    i += need + 1;
  }
  return out;
}
