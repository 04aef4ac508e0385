// Rebuilds data/demo/synopses.txt: one-line package synopses from Debian
// bookworm's main Packages index (apt's lists), lower-cased, deduplicated,
// 3,000 of them in a fixed seeded order. Needs lz4 and `apt-get update`.
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';

const lists = '/var/lib/apt/lists';
const file = readdirSync(lists).find((f) => /debian_dists_bookworm_main_binary-amd64_Packages\.lz4$/.test(f));
if (!file) throw new Error(`make-demo-data: no bookworm main Packages.lz4 in ${lists}; run apt-get update`);
const text = execFileSync('lz4', ['-dc', `${lists}/${file}`], { maxBuffer: 1 << 30 }).toString('utf8');
const seen = new Set();
for (const line of text.split('\n')) {
  if (!line.startsWith('Description: ')) continue;
  const s = line.slice(13).trim().toLowerCase();
  if (/^[a-z0-9 ,.()'/+-]{12,80}$/.test(s)) seen.add(s);
}
let state = 12345;
const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296;
const all = [...seen].sort();
for (let i = all.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [all[i], all[j]] = [all[j], all[i]];
}
writeFileSync('data/demo/synopses.txt', `${all.slice(0, 3000).join('\n')}\n`);
console.log(`make-demo-data: ${seen.size} unique synopses, wrote 3000 to data/demo/synopses.txt`);
