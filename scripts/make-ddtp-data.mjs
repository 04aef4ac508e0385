// Rebuilds data/ddtp/*.tsv.gz from Debian bookworm main's DDTP index files
// (i18n/Translation-en, -fr, -de; `apt-get update -o Acquire::Languages=en,fr,de`
// puts them, lz4-compressed, in /var/lib/apt/lists/). Needs Debian's lz4 tool.
//
//   synopses-en-fr   one-line synopses, English -> French (paired by Description-md5)
//   synopses-en-de   the same, English -> German
//   sentences-en-fr  sentences of long-description paragraphs that split into the
//                    same number of sentences on both sides (the harder set)
//   summaries-en     English long description -> its synopsis
//
// Each set: whitespace normalised, deduplicated, split train/valid/test by a hash
// of the source side (so a source sentence is in one split only); valid/test rows
// whose target also occurs in train are dropped. One `source<TAB>target` per line.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const lists = process.env.APT_LISTS ?? '/var/lib/apt/lists'; // APT_LISTS: another folder holding the same files
const outDir = 'data/ddtp';

function readIndex(lang) {
  const file = readdirSync(lists).find((f) => f.endsWith(`_dists_bookworm_main_i18n_Translation-${lang}.lz4`));
  if (!file)
    throw new Error(
      `make-ddtp-data: no bookworm main Translation-${lang}.lz4 in ${lists}; run apt-get update -o Acquire::Languages=en,fr,de`,
    );
  const text = execFileSync('lz4', ['-dc', `${lists}/${file}`], { maxBuffer: 1 << 30 }).toString('utf8');
  const byMd5 = new Map();
  for (const record of text.split(/\n\n+/)) {
    const md5 = /^Description-md5: ([0-9a-f]{32})$/m.exec(record)?.[1];
    const start = record.indexOf(`\nDescription-${lang}: `);
    if (!md5 || start < 0) continue;
    const lines = record.slice(start + 1).split('\n');
    const synopsis = lines[0].slice(`Description-${lang}: `.length);
    const body = [];
    for (const line of lines.slice(1)) {
      if (!line.startsWith(' ')) break;
      body.push(line);
    }
    byMd5.set(md5, { synopsis: normalise(synopsis), paragraphs: paragraphsOf(body) });
  }
  return byMd5;
}

const normalise = (s) => s.replace(/\s+/g, ' ').trim();

// Debian's long description: ' .' separates paragraphs; lines starting with two
// spaces are verbatim (lists, code), marked so the sentence set can skip them.
function paragraphsOf(body) {
  const paragraphs = [];
  let current = [];
  let verbatim = false;
  const flush = () => {
    if (current.length > 0) paragraphs.push({ text: normalise(current.join(' ')), verbatim });
    current = [];
    verbatim = false;
  };
  for (const line of body) {
    if (line.trim() === '.') flush();
    else {
      if (line.startsWith('  ')) verbatim = true;
      current.push(line);
    }
  }
  flush();
  return paragraphs;
}

// Sentence ends: . ! ? (or :) followed by a space and an upper-case letter,
// digit or opening quote; a single capital before the dot (initials) is not one.
function sentencesOf(text) {
  return text
    .split(/(?<=[^\s.]{2}[.!?])\s+(?=[\p{Lu}\d"«(])/u)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const words = (s) => s.split(' ').length;
const hashBucket = (s) => createHash('sha1').update(s).digest().readUInt32BE(0) % 100;
const splitOf = (source) => {
  const b = hashBucket(source);
  return b < 90 ? 'train' : b < 95 ? 'valid' : 'test';
};

// pairs: [source, target][]; keeps the first target seen for a source (the
// caller iterates in a fixed order), then splits.
function writeSet(name, pairs, { minTargetCount = 0 } = {}) {
  const bySource = new Map();
  for (const [source, target] of pairs) if (!bySource.has(source)) bySource.set(source, target);
  const splits = { train: [], valid: [], test: [] };
  for (const [source, target] of [...bySource].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
    splits[splitOf(source)].push([source, target]);
  }
  const trainTargets = new Set(splits.train.map((p) => p[1]));
  let dropped = 0;
  for (const split of ['valid', 'test']) {
    const before = splits[split].length;
    splits[split] = splits[split].filter((p) => !trainTargets.has(p[1]));
    dropped += before - splits[split].length;
  }
  const sizes = [];
  for (const [split, rows] of Object.entries(splits)) {
    if (rows.length < minTargetCount) throw new Error(`make-ddtp-data: ${name}.${split} has only ${rows.length} pairs`);
    const tsv = rows.map(([s, t]) => `${s}\t${t}\n`).join('');
    const gz = gzipSync(Buffer.from(tsv, 'utf8'), { level: 9 });
    writeFileSync(`${outDir}/${name}.${split}.tsv.gz`, gz);
    sizes.push(`${split} ${rows.length} (${(gz.length / 1024).toFixed(0)} KiB)`);
  }
  console.log(`make-ddtp-data: ${name}: ${sizes.join(', ')}; ${dropped} valid/test rows dropped (target in train)`);
}

// Non-empty, and no tab or other control character (the TSV must stay one pair a line).
const clean = (s) => s.length > 0 && ![...s].some((c) => c.charCodeAt(0) < 0x20);

mkdirSync(outDir, { recursive: true });
const en = readIndex('en');
const sortedMd5 = [...en.keys()].sort();

for (const lang of ['fr', 'de']) {
  const other = readIndex(lang);
  const synopses = [];
  const sentences = [];
  for (const md5 of sortedMd5) {
    const a = en.get(md5);
    const b = other.get(md5);
    if (!b) continue;
    if (clean(a.synopsis) && clean(b.synopsis)) synopses.push([a.synopsis, b.synopsis]);
    if (lang !== 'fr' || a.paragraphs.length !== b.paragraphs.length) continue;
    for (let i = 0; i < a.paragraphs.length; i++) {
      const pa = a.paragraphs[i];
      const pb = b.paragraphs[i];
      if (pa.verbatim || pb.verbatim) continue;
      const sa = sentencesOf(pa.text);
      const sb = sentencesOf(pb.text);
      if (sa.length !== sb.length) continue;
      for (let j = 0; j < sa.length; j++) {
        const ok = words(sa[j]) >= 3 && words(sa[j]) <= 30 && words(sb[j]) >= 2 && words(sb[j]) <= 45;
        if (ok && clean(sa[j]) && clean(sb[j])) sentences.push([sa[j], sb[j]]);
      }
    }
  }
  writeSet(`synopses-en-${lang}`, synopses, { minTargetCount: 100 });
  if (lang === 'fr') writeSet('sentences-en-fr', sentences, { minTargetCount: 100 });
}

// Summarization: long description (25-80 words, no verbatim block) -> synopsis (2-16 words).
const summaries = [];
const seenDescriptions = new Set();
for (const md5 of sortedMd5) {
  const { synopsis, paragraphs } = en.get(md5);
  if (paragraphs.length === 0 || paragraphs.some((p) => p.verbatim)) continue;
  const description = paragraphs.map((p) => p.text).join(' ');
  const n = words(description);
  const m = words(synopsis);
  if (n < 25 || n > 80 || m < 2 || m > 16 || !clean(description) || !clean(synopsis)) continue;
  if (seenDescriptions.has(description)) continue;
  seenDescriptions.add(description);
  summaries.push([description, synopsis]);
}
writeSet('summaries-en', summaries, { minTargetCount: 100 });
