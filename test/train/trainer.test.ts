import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as at from '../../src/index.ts';
import { ShuffledBatches } from '../../src/train/batches.ts';
import { loadCheckpoint } from '../../src/train/checkpoint.ts';
import { tinyTrainer } from './fixtures/tiny-task.ts';

const params = (t: ReturnType<typeof tinyTrainer>) => t.options.model.namedParameters().map(([n, p]) => [n, Array.from(p.view())]);

describe('Trainer: exact resume', () => {
  it('20 steps straight equal 10 + stop + resume 10, bit for bit (with dropout, accumulation, clipping, schedule)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-train-'));
    at.manualSeed(42);
    const straight = tinyTrainer({ steps: 20 });
    await straight.fit();

    at.manualSeed(42);
    const first = tinyTrainer({ steps: 20, outDir: dir, checkpointEvery: 10 });
    for (let i = 0; i < 10; i++) first.trainStep();
    first.save(join(dir, 'at10.safetensors'));

    at.manualSeed(999); // a fresh process would have another RNG state: the checkpoint must restore it
    const resumed = tinyTrainer({ steps: 20 });
    resumed.resume(join(dir, 'at10.safetensors'));
    assert.equal(resumed.step, 10);
    const result = await resumed.fit();
    assert.equal(result.step, 20);
    assert.deepEqual(params(resumed), params(straight));
    assert.deepEqual(resumed.options.optimizer.stateDict().meta, straight.options.optimizer.stateDict().meta);
  });

  it('evaluation does not change the training stream', async () => {
    at.manualSeed(7);
    const plain = tinyTrainer({ steps: 8 });
    await plain.fit();
    at.manualSeed(7);
    const evaluated = tinyTrainer({ steps: 8, evalEvery: 2 });
    await evaluated.fit();
    assert.deepEqual(params(evaluated), params(plain));
  });
});

describe('Trainer: outputs', () => {
  it('writes metrics as JSON lines, keeps last and best checkpoints, stops on a time limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-train-'));
    const t = tinyTrainer({ steps: 12, outDir: dir, evalEvery: 4 });
    const result = await t.fit();
    assert.equal(result.stoppedBy, 'steps');
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.filter((l) => typeof l.loss === 'number').length, 12);
    assert.deepEqual(
      lines.filter((l) => l.eval).map((l) => l.step),
      [4, 8, 12],
    );
    assert.equal(lines.at(-1).event, 'end');
    const last = loadCheckpoint(join(dir, 'last.safetensors'));
    assert.equal(last.step, 12);
    assert.equal(last.modelClass, 'Mlp');
    assert.deepEqual(last.modelConfig, { inputs: 6, hidden: 16, classes: 3 });
    assert.deepEqual(last.data, { seed: 3, epoch: 3, position: 96 }); // 12 updates × 2 micro-batches of 16 = 4 epochs of 96
    const best = loadCheckpoint(join(dir, 'best.safetensors'));
    assert.equal(best.step, result.best!.step);
    const timed = tinyTrainer({ steps: 1_000_000, maxSeconds: 0.2 });
    const r = await timed.fit();
    assert.equal(r.stoppedBy, 'time');
    assert.ok(r.step > 0 && r.step < 1_000_000);
  });

  it('a truncated or corrupted checkpoint is refused, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-train-'));
    const t = tinyTrainer({ steps: 4, outDir: dir });
    await t.fit();
    const path = join(dir, 'last.safetensors');
    const bytes = readFileSync(path);
    truncateSync(path, bytes.length - 10);
    assert.throws(
      () => tinyTrainer({ steps: 4 }).resume(path),
      (e: Error) => e.message.includes(path) && /truncated or corrupt/.test(e.message),
    );
    const corrupt = Buffer.from(bytes);
    corrupt[8] = 0x78; // the header's opening '{' becomes 'x'
    writeFileSync(path, corrupt);
    assert.throws(
      () => tinyTrainer({ steps: 4 }).resume(path),
      (e: Error) => e.message.includes(path) && /not valid JSON/.test(e.message),
    );
    const foreign = join(dir, 'foreign.safetensors');
    at.tidy(() => at.tensor([1]));
    const { saveSafetensors } = await import('../../src/io/safetensors.ts');
    saveSafetensors(foreign, { w: at.tensor([1]) });
    assert.throws(() => loadCheckpoint(foreign), /checkpoint: .*foreign\.safetensors: not an attune checkpoint/);
  });
});

describe('Trainer: time budget', () => {
  it('re-plans steps once from the measured pace (first evaluation included), and the schedule and periods follow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-train-'));
    const horizons: number[] = [];
    const slow = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until);
    };
    // a 4-step estimate for a 0.6 s budget at ~6 ms a step: far too few
    const t = tinyTrainer({
      steps: 4,
      scheduleFor: (n) => {
        horizons.push(n);
        return at.warmupCosine(1, n + 1);
      },
      budget: { seconds: 0.6, replanAfter: 0.015, fill: 0.9 },
      evalEvery: 2,
      checkpointEvery: 2,
      evaluate: () => ({ score: 1 }),
      onStep: () => slow(6),
      outDir: dir,
    });
    const result = await t.fit();
    assert.equal(horizons[0], 4);
    assert.equal(horizons.length, 2, `scheduleFor asked once per plan, got ${horizons}`);
    assert.equal(t.steps, horizons[1]);
    assert.equal(result.step, t.steps);
    assert.ok(t.steps >= 40 && t.steps <= 110, `0.54 s of ~6 ms steps: expected 40–110 updates, got ${t.steps}`);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const replan = lines.find((l) => l.event === 'replan');
    assert.equal(replan.before, 4);
    assert.ok(replan.step >= 2, 'waits for the first evaluation');
    const next = lines.find((l) => l.eval && l.step > replan.step);
    assert.ok(!next || next.step - replan.step >= 10, `the new period counts from the re-plan: next evaluation at ${next?.step}`);
    // the periods scale with the run: about 10 evaluations over the new length, not one every 2 steps
    const evaluations = lines.filter((l) => l.eval).length;
    assert.ok(evaluations <= 14, `expected the evaluation period to scale, got ${evaluations} evaluations`);
    assert.equal(loadCheckpoint(join(dir, 'last.safetensors')).extra?.totalSteps, t.steps);
  });

  it('rejects a budget whose re-plan point is not inside it', () => {
    assert.throws(() => tinyTrainer({ steps: 4, budget: { seconds: 1, replanAfter: 2 } }), /0 < replanAfter < seconds/);
  });
});

describe('Trainer: SIGINT', () => {
  it('Ctrl-C sent to a training child process leaves a loadable checkpoint and a clean exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'attune-sigint-'));
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/sigint-child.ts', import.meta.url)), dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('training started')) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${out}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 130, out);
    assert.match(out, /stopped by signal at step \d+/);
    assert.ok(existsSync(join(dir, 'last.safetensors')));
    const ck = loadCheckpoint(join(dir, 'last.safetensors'));
    assert.ok(ck.step > 0);
    assert.equal(ck.optimizer?.meta.step, ck.step);
    const resumed = tinyTrainer({ steps: ck.step + 2 });
    resumed.resume(join(dir, 'last.safetensors'));
    assert.equal((await resumed.fit()).step, ck.step + 2);
  });
});

describe('ShuffledBatches', () => {
  it('is a seeded permutation per epoch, and its state resumes the order', () => {
    const a = new ShuffledBatches(10, { batchSize: 3, seed: 1 });
    const seen = [a.next(), a.next(), a.next()].flatMap((b) => Array.from(b));
    assert.equal(new Set(seen).size, 9);
    const s = a.state();
    const next = Array.from(a.next());
    const b = new ShuffledBatches(10, { batchSize: 3, seed: 1 });
    b.setState(s);
    assert.deepEqual(Array.from(b.next()), next);
    assert.throws(() => b.setState({ seed: 1 }), /ShuffledBatches: bad state \{"seed":1\}/);
    assert.throws(() => new ShuffledBatches(2, { batchSize: 3 }), /2 examples do not fill one batch of 3/);
  });
});
