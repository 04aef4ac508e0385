// A small real study for the report tests: two objectives over a mixed
// space (float, log float, int, categorical), with pruned and failed trials.

import { NSGAIISampler } from '../../src/tune/samplers/nsga2.ts';
import { createStudy, type Study } from '../../src/tune/study.ts';
import { TrialPruned } from '../../src/tune/trial.ts';

export async function makeReportStudy(name = 'report <script>window.__xss=1</script> "q"', trials = 40): Promise<Study> {
  const study = await createStudy({
    name,
    directions: ['maximize', 'minimize'],
    sampler: new NSGAIISampler({ seed: 3, populationSize: 10 }),
  });
  await study.optimize(
    (trial) => {
      const heads = trial.suggestCategorical('numHeads', [1, 2, 4, 8]);
      const lr = trial.suggestFloat('lr', 1e-4, 1e-1, { log: true });
      const width = trial.suggestInt('width', 32, 256, { step: 32 });
      const position = trial.suggestCategorical('position', ['rope', 'alibi', '<b>"x"</b>']);
      if (trial.number === 5) throw new TrialPruned();
      if (trial.number === 7) throw new Error('diverged');
      const quality = 30 + 4 * Math.log2(heads) - 3 * Math.abs(Math.log10(lr) + 2.5) + width / 64 + (position === 'rope' ? 1 : 0);
      const latency = 0.5 + (heads * width) / 256;
      return [quality, latency];
    },
    { nTrials: trials, catch: [Error] },
  );
  return study;
}
