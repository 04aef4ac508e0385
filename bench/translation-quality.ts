// Translation quality: trains attune's default translation model (3+3
// layers, width 256, 8k BPE; src/tasks/seq2seq/model.ts) on the DDTP
// English→French synopses for a wall-clock budget (default 30 minutes, 2
// threads — run it with the machine to itself), then scores the test split
// with sacreBLEU-default BLEU: beam 4 (the target: ≥ 40), greedy, and the
// copy-the-source baseline, all by the same code. Also decoding speed on the
// test split.
//   npm run bench -- translation-quality [--minutes 30] [--threads 2] [--out dir] [--train-limit n] [--test-limit n]

import { parseArgs } from 'node:util';
import '../src/index.js';
import { getBackend } from '../src/backend/backend.js';
import { generate } from '../src/tasks/seq2seq/generate.js';
import { trainSeq2Seq } from '../src/tasks/seq2seq/train.js';
import { copySourceBleu, loadTranslationData, type TranslationSet, translationTask } from '../src/tasks/translation/task.js';
import { machineInfo, writeResults } from './report.js';

const { values } = parseArgs({
  // run as `npm run bench -- <name> …` (bench/main.ts) or directly
  args: process.argv.slice(process.argv[2]?.endsWith('-quality') ? 3 : 2),
  options: {
    minutes: { type: 'string', default: '30' },
    threads: { type: 'string', default: '2' },
    set: { type: 'string', default: 'synopses-en-fr' },
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
const data = loadTranslationData(values.set as TranslationSet, values['train-limit'] ? Number(values['train-limit']) : undefined);
const test = data.test.slice(0, values['test-limit'] ? Number(values['test-limit']) : undefined);
const result = await trainSeq2Seq(translationTask, {
  train: data.train,
  valid: data.valid,
  minutes: Number(values.minutes),
  outDir: values.out,
  lr: values.lr ? Number(values.lr) : undefined,
  batchSize: values['batch-size'] ? Number(values['batch-size']) : undefined,
  progress: 'lines',
});
const decode = (beamSize: number) => {
  const t0 = performance.now();
  const hyps = generate(
    result.model,
    result.tokenizer,
    test.map((p) => p.source),
    {
      beamSize,
      maxLength: translationTask.maxTargetLength + 1,
      maxLengthRatio: translationTask.maxLengthRatio,
      maxSourceLength: translationTask.maxSourceLength,
      batchSize: 32,
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  return {
    bleu: translationTask.score(
      hyps.map((h) => h.text),
      test.map((p) => p.target),
    ),
    sentencesPerSecond: test.length / seconds,
    hyps,
  };
};
const beam4 = decode(4);
const greedy = decode(1);
const copy = copySourceBleu(test);
console.log(
  `\nDDTP ${values.set} test (${test.length} pairs), after ${result.steps} updates (${result.epochs.toFixed(1)} epochs, ${result.fit.seconds.toFixed(0)} s)`,
);
console.log(
  `  BLEU beam 4  ${beam4.bleu.toFixed(2)}  (target ≥ 40: ${beam4.bleu >= 40 ? 'met' : 'NOT met'}; ${beam4.sentencesPerSecond.toFixed(1)} sentences/s)`,
);
console.log(`  BLEU greedy  ${greedy.bleu.toFixed(2)}  (${greedy.sentencesPerSecond.toFixed(1)} sentences/s)`);
console.log(`  BLEU copy the source  ${copy.toFixed(2)}`);
for (let i = 0; i < Math.min(5, test.length); i++)
  console.log(`  ${test[i].source}\n    → ${beam4.hyps[i].text}\n    ref ${test[i].target}`);
const file = writeResults('translation-quality', [], {
  set: values.set,
  threads: getBackend().threads,
  minutes: Number(values.minutes),
  steps: result.steps,
  epochs: result.epochs,
  trainSeconds: result.fit.seconds,
  tokensPerSecond: result.tokensPerSecond,
  parameters: result.model.numParameters(),
  testPairs: test.length,
  bleuBeam4: beam4.bleu,
  bleuGreedy: greedy.bleu,
  bleuCopySource: copy,
  sentencesPerSecondBeam4: beam4.sentencesPerSecond,
  sentencesPerSecondGreedy: greedy.sentencesPerSecond,
  bestValidation: result.fit.best,
});
console.log(`results in ${file}`);
