// npm run bench -- <name>: runs bench/<name>.ts (autotune, kernels, matmul, attention, native-cpu, attention-cost, peers-demo, train-vit, train-vit-quality, train-seq2seq, translation-quality, summarization-quality, tune-real).

const name = process.argv[2];
const known = [
  'autotune',
  'kernels',
  'matmul',
  'attention',
  'native-cpu',
  'attention-cost',
  'peers-demo',
  'train-vit',
  'train-vit-quality',
  'train-seq2seq',
  'translation-quality',
  'summarization-quality',
  'tune-real',
];
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [options]`);
  process.exit(2);
}
await import(`./${name}.ts`);
