import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as at from '../../src/index.ts';

class Block extends at.Module {
  readonly fc: at.Linear;
  readonly norm: at.LayerNorm;
  constructor(seed: number) {
    super();
    this.fc = this.registerModule('fc', new at.Linear(4, 3, { seed }));
    this.norm = this.registerModule('norm', new at.LayerNorm(3));
    this.registerBuffer('steps', at.zeros([1], 'int32'));
  }
  forward(x: at.Tensor): at.Tensor {
    return this.norm.forward(this.fc.forward(x));
  }
}

class Net extends at.Module {
  readonly scale: at.Tensor;
  readonly blocks: at.ModuleList<Block>;
  constructor(seed = 1) {
    super();
    this.scale = this.registerParameter('scale', at.ones([3]), 'norm');
    this.blocks = this.registerModule('blocks', new at.ModuleList([new Block(seed), new Block(seed + 1)]));
  }
  forward(x: at.Tensor): at.Tensor {
    return at.mul(this.blocks.at(0).forward(x), this.scale);
  }
}

describe('Module', () => {
  it('names parameters by dotted path in registration order, with their kinds', () => {
    const net = new Net();
    assert.deepEqual(
      net.namedParameters().map(([n]) => n),
      [
        'scale',
        'blocks.0.fc.weight',
        'blocks.0.fc.bias',
        'blocks.0.norm.weight',
        'blocks.0.norm.bias',
        'blocks.1.fc.weight',
        'blocks.1.fc.bias',
        'blocks.1.norm.weight',
        'blocks.1.norm.bias',
      ],
    );
    const kinds = net.parameterKinds();
    assert.equal(kinds.get('blocks.0.fc.weight'), 'weight');
    assert.equal(kinds.get('blocks.0.fc.bias'), 'bias');
    assert.equal(kinds.get('blocks.1.norm.weight'), 'norm');
    assert.equal(net.numParameters(), 3 + 2 * (4 * 3 + 3 + 3 + 3));
    assert.ok(net.parameters().every((p) => p.requiresGrad));
    assert.deepEqual(
      net.namedBuffers().map(([n]) => n),
      ['blocks.0.steps', 'blocks.1.steps'],
    );
    assert.deepEqual(
      net.namedModules().map(([n]) => n),
      ['', 'blocks', 'blocks.0', 'blocks.0.fc', 'blocks.0.norm', 'blocks.1', 'blocks.1.fc', 'blocks.1.norm'],
    );
  });

  it('parameters survive tidy scopes; same seed gives the same weights', () => {
    const net = at.tidy(() => new Net(5));
    assert.ok(net.parameters().every((p) => !p.isDisposed));
    at.tidy(() => net.forward(at.ones([2, 4])));
    assert.ok(net.parameters().every((p) => !p.isDisposed));
    const twin = new Net(5);
    assert.deepEqual(Array.from(twin.blocks.at(1).fc.weight.view()), Array.from(net.blocks.at(1).fc.weight.view()));
    const other = new Net(6);
    assert.notDeepEqual(Array.from(other.blocks.at(1).fc.weight.view()), Array.from(net.blocks.at(1).fc.weight.view()));
  });

  it('train() and eval() reach every descendant', () => {
    const net = new Net();
    net.eval();
    assert.ok(net.namedModules().every(([, m]) => !m.training));
    net.train();
    assert.ok(net.namedModules().every(([, m]) => m.training));
  });

  it('stateDict round-trips into a differently seeded model', () => {
    const a = new Net(1);
    const b = new Net(9);
    a.blocks.at(0).namedBuffers()[0]?.[1].view().set([7]);
    b.loadStateDict(a.stateDict());
    for (const [name, t] of a.stateDict()) assert.deepEqual(Array.from(b.stateDict().get(name)?.view() ?? []), Array.from(t.view()), name);
    const x = at.randn([2, 4], { seed: 3 });
    assert.deepEqual(Array.from(b.forward(x).view()), Array.from(a.forward(x).view()));
    // A plain record works too.
    const c = new Net(11);
    c.loadStateDict(Object.fromEntries(a.stateDict()));
    assert.deepEqual(Array.from(c.forward(x).view()), Array.from(a.forward(x).view()));
  });

  it('strict loading names missing, unexpected and mis-shaped entries and copies nothing', () => {
    const net = new Net(1);
    const before = Array.from(net.scale.view());
    const state = new Map(new Net(2).stateDict());
    state.delete('blocks.1.fc.bias');
    state.set('blocks.7.extra', at.ones([2]));
    state.set('scale', at.full([3], 5));
    state.set('blocks.0.fc.weight', at.ones([4, 3]));
    assert.throws(
      () => net.loadStateDict(state),
      (e: Error) =>
        /'blocks\.0\.fc\.weight' has shape \[4, 3\], the model expects \[3, 4\]/.test(e.message) &&
        /missing: 'blocks\.1\.fc\.bias'/.test(e.message) &&
        /unexpected: 'blocks\.7\.extra'/.test(e.message),
    );
    assert.deepEqual(Array.from(net.scale.view()), before, 'nothing copied after a refusal');
    state.set('blocks.0.fc.weight', at.ones([3, 4]));
    const result = net.loadStateDict(state, { strict: false });
    assert.deepEqual(result, { missingKeys: ['blocks.1.fc.bias'], unexpectedKeys: ['blocks.7.extra'] });
    assert.deepEqual(Array.from(net.scale.view()), [5, 5, 5]);
    state.set('blocks.0.fc.weight', at.ones([3, 5]));
    assert.throws(() => net.loadStateDict(state, { strict: false }), /mis|has shape \[3, 5\]/);
  });

  it('rejects bad names and duplicates', () => {
    class Bad extends at.Module {
      constructor(name: string) {
        super();
        this.registerParameter(name, at.ones([1]));
        this.registerParameter('w', at.ones([1]));
      }
      forward(): void {}
    }
    assert.throws(() => new Bad('a.b'), /Bad: parameter name 'a\.b' must be letters, digits or '_'/);
    assert.throws(() => new Bad('w'), /Bad: 'w' is already registered/);
  });

  it('summary prints the tree with output shapes and parameter counts', () => {
    const net = new Net();
    const text = net.summary([[2, 4]]);
    assert.match(text, /^Model: Net/);
    assert.match(text, / {2}blocks \(ModuleList\)/);
    assert.match(text, / {6}fc \(Linear\) +\[2, 3\] +15\n/);
    assert.match(text, /1 \(Block\) +\(not called\) +21/);
    assert.match(text, /Trainable params: 45/);
    assert.match(text, /Non-trainable params: 2/);
    // Running the summary leaves the model as it was.
    assert.ok(net.training);
    assert.equal(Object.hasOwn(net, 'forward'), false);
    assert.match(net.summary(), /fc \(Linear\) +\? +15/);
  });

  it('dispose frees parameters and buffers', () => {
    const net = new Net();
    net.dispose();
    assert.ok(net.parameters().every((p) => p.isDisposed));
    assert.ok(net.namedBuffers().every(([, t]) => t.isDisposed));
  });
});
