import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';
import { Module } from '../../src/nn/module.ts';
import { AdamW, clipGradNorm, createSchedule, parameterGroups, SGD, warmupCosine, warmupLinear } from '../../src/optim/index.ts';
import { assertClose } from '../helpers.ts';

/** Gradient c for loss sum(p·c): a constant gradient makes the formulas easy to follow by hand. */
function constantGradStep(opt: { step(): void; zeroGrad(): void }, p: at.Tensor, c: number[]): void {
  at.tidy(() => at.sum(at.mul(p, at.tensor(c))).backward());
  opt.step();
  opt.zeroGrad();
}

describe('SGD (PyTorch formulas)', () => {
  it('momentum: b = g, then μ·b + g; p -= lr·b', () => {
    const p = at.tensor([1]).setRequiresGrad();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9 });
    constantGradStep(opt, p, [2]);
    assertClose(p.view(), [0.8], 1e-6);
    constantGradStep(opt, p, [2]); // b = 0.9·2 + 2 = 3.8
    assertClose(p.view(), [0.42], 1e-6);
  });

  it('Nesterov: p -= lr·(g + μ·b)', () => {
    const p = at.tensor([1]).setRequiresGrad();
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov: true });
    constantGradStep(opt, p, [2]); // b = 2, g = 2 + 1.8 = 3.8
    assertClose(p.view(), [0.62], 1e-6);
    constantGradStep(opt, p, [2]); // b = 3.8, g = 2 + 3.42 = 5.42
    assertClose(p.view(), [0.078], 1e-5);
  });

  it('coupled weight decay and dampening: g = ∇ + λ·p; b = μ·b + (1−τ)·g', () => {
    const p = at.tensor([1, -2]).setRequiresGrad();
    const opt = new SGD([p], { lr: 0.5, momentum: 0.5, dampening: 0.5, weightDecay: 0.1 });
    constantGradStep(opt, p, [1, 1]); // g = [1.1, 0.8]; b = g; p = [0.45, -2.4]
    assertClose(p.view(), [0.45, -2.4], 1e-6);
    constantGradStep(opt, p, [1, 1]); // g = [1.045, 0.76]; b = 0.5·b + 0.5·g = [1.0725, 0.78]
    assertClose(p.view(), [0.45 - 0.5 * 1.0725, -2.4 - 0.5 * 0.78], 1e-6);
  });

  it('rejects Nesterov without momentum and negative rates', () => {
    const p = at.tensor([1]).setRequiresGrad();
    assert.throws(() => new SGD([p], { nesterov: true }), /SGD: Nesterov momentum needs momentum > 0 and dampening 0, got momentum 0/);
    assert.throws(() => new SGD([p], { lr: -1 }), /SGD: lr must be a finite number ≥ 0, got -1/);
  });
});

describe('learning-rate schedules', () => {
  it('linear warmup then cosine decay to minFactor', () => {
    const s = warmupCosine(2, 10);
    assertClose([0, 1, 2, 6, 10, 12].map(s), [0.5, 1, 1, 0.5, 0, 0], 1e-12, 1e-12);
    const floor = warmupCosine(0, 4, 0.1);
    assertClose([0, 2, 4].map(floor), [1, 0.55, 0.1], 1e-12, 1e-12);
  });

  it('linear decay and constant', () => {
    assertClose([0, 4, 7, 10].map(warmupLinear(4, 10)), [0.25, 1, 0.5, 0], 1e-12, 1e-12);
    assertClose([0, 1, 1000].map(createSchedule({ decay: 'constant', warmupSteps: 2 })), [0.5, 1, 1], 1e-12, 1e-12);
    assert.throws(
      () => createSchedule({ warmupSteps: 5, totalSteps: 5 }),
      /schedule: cosine decay needs an integer totalSteps > warmupSteps \(5\), got 5/,
    );
  });

  it('setLrFactor scales every group from its own base lr', () => {
    const a = at.tensor([1]).setRequiresGrad();
    const b = at.tensor([1]).setRequiresGrad();
    const opt = new AdamW([
      { params: [a], lr: 0.1 },
      { params: [b], lr: 0.01 },
    ]);
    opt.setLrFactor(0.5);
    assert.deepEqual(
      opt.groups.map((g) => g.lr),
      [0.05, 0.005],
    );
  });
});

describe('clipGradNorm', () => {
  it('returns the global norm and scales by maxNorm / (norm + 1e-6) when above', () => {
    const a = at.tensor([0, 0]).setRequiresGrad();
    const b = at.tensor([0]).setRequiresGrad();
    a.grad = at.keep(at.tensor([3, 4]));
    b.grad = at.keep(at.tensor([12]));
    assert.equal(clipGradNorm([a, b], 100), 13);
    assertClose(a.grad.view(), [3, 4]);
    assert.equal(clipGradNorm([a, b], 6.5), 13);
    const s = 6.5 / (13 + 1e-6);
    assertClose([...a.grad.view(), ...b.grad.view()], [3 * s, 4 * s, 12 * s], 1e-6);
    assert.throws(() => clipGradNorm([a], 0), /clipGradNorm: maxNorm must be > 0, got 0/);
  });
});

class Tiny extends Module {
  readonly weight = this.registerParameter('weight', at.tensor([1, 1]));
  readonly bias = this.registerParameter('bias', at.tensor([1]), 'bias');
  readonly gamma = this.registerParameter('gamma', at.tensor([1]), 'norm');
  forward(): void {}
}

describe('parameter groups', () => {
  it('no weight decay on bias, norm and embedding parameters by default', () => {
    const m = new Tiny();
    const groups = parameterGroups(m, { weightDecay: 0.5 });
    assert.deepEqual(
      groups.map((g) => [g.names, g.weightDecay]),
      [
        [['weight'], 0.5],
        [['bias', 'gamma'], 0],
      ],
    );
    const opt = new AdamW(groups, { lr: 0.1 });
    for (const p of m.parameters()) p.grad = at.keep(at.zeros(p.shape));
    opt.step(); // zero gradient: only decay moves a weight, p ← p − lr·λ·p
    assertClose([...m.weight.view(), ...m.bias.view(), ...m.gamma.view()], [0.95, 0.95, 1, 1], 1e-7);
  });
});

describe('optimizer state dict', () => {
  for (const make of [(ps: at.Tensor[]) => new AdamW(ps, { lr: 0.05 }), (ps: at.Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9 })]) {
    it(`${make([]).type}: save after 3 steps, load into a fresh optimizer, the next 2 steps match bit for bit`, () => {
      const run = (p: at.Tensor, opt: AdamW | SGD, steps: number) => {
        for (let i = 0; i < steps; i++) {
          at.tidy(() => at.sum(at.square(at.mul(p, p))).backward());
          opt.step();
          opt.zeroGrad();
        }
      };
      const p1 = at.tensor([0.5, -1, 2]).setRequiresGrad();
      const o1 = make([p1]);
      run(p1, o1, 3);
      const state = o1.stateDict();
      const p2 = at.tensor(p1.toArray(), [3]).setRequiresGrad();
      const o2 = make([p2]);
      o2.loadStateDict({ meta: JSON.parse(JSON.stringify(state.meta)), tensors: state.tensors });
      assert.equal(o2.stepCount, 3);
      run(p1, o1, 2);
      run(p2, o2, 2);
      assert.deepEqual(Array.from(p2.view()), Array.from(p1.view()));
      const wrong = new SGD([at.tensor([1]).setRequiresGrad()]);
      assert.throws(
        () => wrong.loadStateDict(o1.stateDict()),
        /SGD\.loadStateDict: (the state is from AdamW|'param\.0\.momentum_buffer' has shape \[3\], the parameter \[1\])/,
      );
    });
  }
});
