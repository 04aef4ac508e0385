import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SuccessiveHalvingPruner } from '../../../src/tune/pruners/asha.js';
import { HyperbandPruner } from '../../../src/tune/pruners/hyperband.js';
import { MedianPruner, PercentilePruner, percentileOf } from '../../../src/tune/pruners/median.js';
import { NopPruner } from '../../../src/tune/pruners/nop.js';
import { CurveStudy, decayCurve, shuffledFinals } from './curves.js';

test('NopPruner never prunes', () => {
  const study = new CurveStudy();
  for (const f of shuffledFinals(10, 1)) assert.equal(study.run(new NopPruner(), decayCurve(f), 20), null);
});

test('MedianPruner stops the worse half and keeps the good trials (synthetic curves)', () => {
  const study = new CurveStudy();
  const pruner = new MedianPruner({ nStartupTrials: 5, nWarmupSteps: 3 });
  const finals = shuffledFinals(40, 7);
  const prunedAt = finals.map((f) => study.run(pruner, decayCurve(f), 30));
  // no pruning during startup, nor before the warm-up step
  for (let i = 0; i < 5; i++) assert.equal(prunedAt[i], null);
  for (const p of prunedAt) if (p !== null) assert.ok(p >= 3);
  // every trial completed after the startup is no worse than the median of those completed before it
  const completed: number[] = finals.slice(0, 5);
  for (let i = 5; i < finals.length; i++) {
    if (prunedAt[i] === null) {
      assert.ok(finals[i]! <= percentileOf(completed, 50) + 1e-9, `trial ${i} (final ${finals[i]}) should have been pruned`);
      completed.push(finals[i]!);
    }
  }
  // the best trial is never pruned, and most of the rest are (the median of the survivors keeps falling)
  assert.equal(prunedAt[finals.indexOf(Math.min(...finals))], null);
  assert.ok(prunedAt.filter((p) => p !== null).length >= 20);
});

test('MedianPruner on maximize, with intervalSteps: checks only at warm-up + k·interval', () => {
  const study = new CurveStudy(['maximize']);
  const pruner = new MedianPruner({ nStartupTrials: 2, nWarmupSteps: 4, intervalSteps: 5 });
  const accuracy = (final: number) => (step: number) => final * (1 - Math.exp(-step / 5));
  study.run(pruner, accuracy(0.9), 30);
  study.run(pruner, accuracy(0.8), 30);
  const pruned = study.run(pruner, accuracy(0.3), 30);
  assert.equal(pruned, 4, 'a clearly worse maximize trial is pruned at the first check (step 4)');
  const good = study.run(pruner, accuracy(0.95), 30);
  assert.equal(good, null);
  // a trial that turns bad at step 10 is caught at the next check, 14
  const late = study.run(pruner, (s) => (s < 10 ? accuracy(0.95)(s) : 0.1), 30);
  assert.equal(late, 14);
  assert.throws(() => new PercentilePruner(120), /percentile must be in \[0, 100\], got 120/);
  assert.throws(() => new MedianPruner({ intervalSteps: 0 }), /intervalSteps must be >= 1, got 0/);
});

test('SuccessiveHalvingPruner: the promotion rule is the top 1/η of each rung (Optuna s rule)', () => {
  const study = new CurveStudy();
  const pruner = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 });
  // rung 0 at step 1, rung 1 at step 2, rung 2 at step 4
  const constant = (v: number) => () => v;
  assert.equal(study.run(pruner, constant(5), 8), null, 'first trial: alone in each rung');
  assert.equal(study.run(pruner, constant(3), 8), null, 'better: promoted');
  // n = 3 members: allowed dominators max(⌊3/2⌋ − 1, 0) = 0, so only the best of three goes on
  assert.equal(study.run(pruner, constant(4), 8), 1, 'worse than 3 with 3 members: stopped at rung 0 (step 1)');
  // rung 0 has 4 members: ⌊4/2⌋ − 1 = 1 dominator allowed, so 3.5 goes on; rung 1 has 3 members
  // (5, 3, 3.5): none allowed, so it stops there (step 2)
  assert.equal(study.run(pruner, constant(3.5), 8), 2, 'second of four at rung 0, second of three at rung 1');
  assert.equal(study.run(pruner, constant(2), 8), null, 'the new best goes through every rung');
  assert.throws(() => new SuccessiveHalvingPruner({ reductionFactor: 1 }), /reductionFactor must be >= 2, got 1/);
});

test('SuccessiveHalvingPruner on synthetic curves: few trials reach the top rung, the best among them', () => {
  const study = new CurveStudy();
  const pruner = new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 3 });
  const finals = shuffledFinals(60, 3);
  const prunedAt = finals.map((f) => study.run(pruner, decayCurve(f, 10, 4), 28));
  const survivors = finals.filter((_, i) => prunedAt[i] === null);
  assert.ok(survivors.length <= 20, `${survivors.length} of 60 reached the end`);
  const best = Math.min(...finals);
  assert.ok(survivors.includes(best), 'the best trial survives');
  // rungs at 1, 3, 9, 27: every pruned trial stopped exactly at a rung
  for (const p of prunedAt) if (p !== null) assert.ok([1, 3, 9, 27].includes(p), `pruned at ${p}`);
});

test('SuccessiveHalvingPruner minResource auto waits for a completed trial', () => {
  const study = new CurveStudy();
  const pruner = new SuccessiveHalvingPruner();
  assert.equal(
    study.run(pruner, () => 1, 300),
    null,
  );
  // auto: ⌊299 / 100⌋ = 2 steps → rungs at 2, 8, 32, 128
  assert.equal(
    study.run(pruner, () => 9, 300),
    2,
  );
});

test('HyperbandPruner: brackets from min/max resource, trials spread over them, bad curves stopped', () => {
  const pruner = new HyperbandPruner({ minResource: 1, maxResource: 81, reductionFactor: 3 });
  assert.equal(pruner.nBrackets, 5);
  const counts = new Array(5).fill(0);
  for (let n = 0; n < 2000; n++) counts[pruner.bracketOf(n)!]++;
  assert.ok(
    counts.every((c) => c > 0),
    `bracket counts ${counts}`,
  );
  assert.ok(counts[0] > counts[4], 'the most aggressive bracket gets the most trials');
  const study = new CurveStudy();
  const finals = shuffledFinals(80, 5);
  const prunedAt = finals.map((f) => study.run(pruner, decayCurve(f, 10, 10), 81));
  const nPruned = prunedAt.filter((p) => p !== null).length;
  assert.ok(nPruned >= 30, `${nPruned} pruned`);
  assert.equal(prunedAt[finals.indexOf(Math.min(...finals))], null, 'the best trial is never pruned');
  assert.throws(() => new HyperbandPruner({ minResource: 10, maxResource: 5 }), /maxResource must be >= minResource \(10\)/);
});

test('HyperbandPruner maxResource auto: no pruning until a trial completes', () => {
  const study = new CurveStudy();
  const pruner = new HyperbandPruner();
  assert.equal(
    study.run(pruner, () => 5, 27),
    null,
  );
  assert.equal(pruner.nBrackets, 0);
  study.run(pruner, () => 4, 27);
  assert.equal(pruner.nBrackets, 4); // maxResource 27: ⌊log3(27)⌋ + 1
});

test('several objectives: pruned only when dominated, so a worse curve with lower latency is kept', () => {
  // objectives: loss (minimize, reported per step) and latency (minimize, known from the start)
  for (const make of [
    () => new MedianPruner({ nStartupTrials: 3 }),
    () => new SuccessiveHalvingPruner({ minResource: 1, reductionFactor: 2 }),
  ]) {
    const study = new CurveStudy(['minimize', 'minimize']);
    const pruner = make();
    const run = (final: number, latency: number) => study.run(pruner, decayCurve(final), 16, (s) => [decayCurve(final)(s), latency]);
    for (const [f, l] of [
      [1, 5],
      [1.2, 5],
      [1.1, 6],
      [1.3, 5.5],
    ] as const)
      run(f, l);
    assert.notEqual(run(3, 7), null, `${pruner.constructor.name}: dominated on both objectives is pruned`);
    assert.equal(run(3, 1), null, `${pruner.constructor.name}: worse loss but best latency is kept`);
  }
});

test('several objectives reported as one curve: the first objective decides, in its direction', () => {
  const study = new CurveStudy(['maximize', 'minimize']);
  const pruner = new MedianPruner({ nStartupTrials: 2 });
  const acc = (a: number) => (s: number) => a * (1 - Math.exp(-(s + 1) / 3));
  study.run(pruner, acc(0.9), 10);
  study.run(pruner, acc(0.8), 10);
  assert.notEqual(study.run(pruner, acc(0.2), 10), null);
  assert.equal(study.run(pruner, acc(0.95), 10), null);
});
