// Summarization quality: trains attune's default encoder-decoder (3+3
// layers, width 256, 8k BPE) to turn Debian long descriptions into their
// synopsis for a wall-clock budget (default 30 minutes, 2 threads — run it
// with the machine to itself), then scores the test split with ROUGE-1/2/L
// F1 (rouge-score's definition): the model with beam 4 and greedy, and the
// lead baselines (the first sentence, the first 10 words), by the same code.
// The target: ROUGE-L ≥ the first-sentence baseline + 2.
//   npm run bench -- summarization-quality [--minutes 30] [--threads 2] [--out dir] [--train-limit n] [--test-limit n]

import { parseArgs } from 'node:util';
import '../src/index.js';
import { getBackend } from '../src/backend/backend.js';
import { corpusRouge, type RougeScores } from '../src/metrics/rouge.js';
import { generate } from '../src/tasks/seq2seq/generate.js';
import { trainSeq2Seq } from '../src/tasks/seq2seq/train.js';
import { baselineRouge, firstSentence, firstWords, loadSummarizationData, summarizationTask } from '../src/tasks/summarization/task.js';
import { machineInfo, writeResults } from './report.js';

const { values } = parseArgs({
  // run as `npm run bench -- <name> …` (bench/main.ts) or directly
  args: process.argv.slice(process.argv[2]?.endsWith('-quality') ? 3 : 2),
  options: {
    minutes: { type: 'string', default: '30' },
    threads: { type: 'string', default: '2' },
    out: { type: 'string' },
    'train-limit': { type: 'string' },
    'test-limit': { type: 'string' },
    lr: { type: 'string' },
    'batch-size': { type: 'string' },
  },
});
getBackend().setThreads(Number(values.threads));
const machine = machineInfo();
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, load ${machine.loadAverage.map((l) => l.toFixed(2))}`);
if (machine.loadAverage[0]! > machine.cores / 2) {
  console.log(
    `WARNING: the machine is busy (load ${machine.loadAverage[0]!.toFixed(1)} on ${machine.cores} cores): timings and ratios are unreliable; multi-threaded OpenBLAS degrades worst`,
  );
}
const data = loadSummarizationData(values['train-limit'] ? Number(values['train-limit']) : undefined);
const test = data.test.slice(0, values['test-limit'] ? Number(values['test-limit']) : undefined);
const result = await trainSeq2Seq(summarizationTask, {
  train: data.train,
  valid: data.valid,
  minutes: Number(values.minutes),
  outDir: values.out,
  lr: values.lr ? Number(values.lr) : undefined,
  batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
  progress: 'lines',
});
const references = test.map((p) => p.target);
const decode = (beamSize: number) => {
  const t0 = performance.now();
  const hyps = generate(
    result.model,
    result.tokenizer,
    test.map((p) => p.source),
    { beamSize, maxLength: summarizationTask.maxTargetLength + 1, maxSourceLength: summarizationTask.maxSourceLength, batchSize: 32 },
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    rouge: corpusRouge(
      references,
      hyps.map((h) => h.text),
    ),
    sentencesPerSecond: test.length / seconds,
    hyps,
  };
};
const beam4 = decode(4);
const greedy = decode(1);
const lead = baselineRouge(test, firstSentence);
const first10 = baselineRouge(test, (s) => firstWords(s, 10));
const pct = (r: RougeScores) => ({ rouge1: 100 * r.rouge1.f1, rouge2: 100 * r.rouge2.f1, rougeL: 100 * r.rougeL.f1 });
const row = (label: string, r: RougeScores) =>
  console.log(`  ${label.padEnd(22)} ${[r.rouge1, r.rouge2, r.rougeL].map((s) => (100 * s.f1).toFixed(2).padStart(7)).join(' ')}`);
console.log(
  `\nDDTP summaries-en test (${test.length} pairs), after ${result.steps} updates (${result.epochs.toFixed(1)} epochs, ${result.fit.seconds.toFixed(0)} s)`,
);
console.log(`  ${'F1 ×100'.padEnd(22)} ${['R-1', 'R-2', 'R-L'].map((s) => s.padStart(7)).join(' ')}`);
row('model, beam 4', beam4.rouge);
row('model, greedy', greedy.rouge);
row('first sentence', lead);
row('first 10 words', first10);
const margin = 100 * (beam4.rouge.rougeL.f1 - lead.rougeL.f1);
console.log(
  `  ROUGE-L beam 4 − first sentence = ${margin.toFixed(2)} (target ≥ 2: ${margin >= 2 ? 'met' : 'NOT met'}); ${beam4.sentencesPerSecond.toFixed(1)} documents/s`,
);
for (let i = 0; i < Math.min(5, test.length); i++) console.log(`  → ${beam4.hyps[i].text}\n    ref ${test[i].target}`);
const file = writeResults('summarization-quality', [], {
  threads: getBackend().threads,
  minutes: Number(values.minutes),
  steps: result.steps,
  epochs: result.epochs,
  trainSeconds: result.fit.seconds,
  tokensPerSecond: result.tokensPerSecond,
  parameters: result.model.numParameters(),
  testPairs: test.length,
  beam4: pct(beam4.rouge),
  greedy: pct(greedy.rouge),
  firstSentence: pct(lead),
  first10Words: pct(first10),
  rougeLMarginOverFirstSentence: margin,
  documentsPerSecondBeam4: beam4.sentencesPerSecond,
  bestValidation: result.fit.best,
});
console.log(`results in ${file}`);
