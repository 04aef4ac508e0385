// Tensors dropped without tidy() or dispose() are reclaimed under pressure:
// before the heap grows and when an allocation fails, a forced collection
// runs the finalizers at once, so a plain loop runs in bounded memory.
// Each case runs in a child process with a small JS heap and a 64 MiB
// tensor heap, so a leak fails fast.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const entry = new URL('../../src/index.ts', import.meta.url).href;

function runChild(body: string): { status: number | null; stdout: string; stderr: string } {
  const script = `import * as at from ${JSON.stringify(entry)};\nat.getHeap().setLimit(64 * 2 ** 20);\n${body}`;
  const child = spawnSync(process.execPath, ['--max-old-space-size=96', '--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe('reclaiming unreachable tensors', () => {
  for (const backend of ['js', 'wasm']) {
    it(`20,000 iterations of a loop that drops its results run in a 64 MiB heap (${backend})`, () => {
      const { status, stdout, stderr } = runChild(`
        at.setBackend('${backend}');
        const x = at.ones([128, 128]); // 64 KiB: 20,000 of them are 1.25 GiB, the heap holds about 1,000
        let last = 0;
        for (let i = 0; i < 20000; i++) last = at.addScalar(x, i).view()[0];
        console.log(JSON.stringify({ last, heap: at.getHeap().stats.heapBytes }));
      `);
      assert.equal(status, 0, stderr);
      const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
      assert.equal(result.last, 20000);
      assert.ok(result.heap <= 64 * 2 ** 20, `heap ${result.heap}`);
    });
  }

  it('a training loop without tidy (graphs dropped, never disposed) runs in bounded memory', () => {
    const { status, stdout, stderr } = runChild(`
      const w = at.randn([128, 128], { seed: 1 }).setRequiresGrad();
      for (let i = 0; i < 3000; i++) {
        at.sum(at.exp(at.mulScalar(at.tanh(w), 0.01))).backward();
        w.grad = null;
      }
      console.log(JSON.stringify(at.getHeap().stats));
    `);
    assert.equal(status, 0, stderr);
    assert.ok(JSON.parse(stdout.trim().split('\n').pop() ?? '{}').heapBytes <= 64 * 2 ** 20);
  });

  it('still reports a full heap when live tensors fill it', () => {
    const { status, stderr } = runChild(`
      const kept = [];
      for (let i = 0; i < 1000; i++) kept.push(at.zeros([256, 256]));
    `);
    assert.notEqual(status, 0);
    assert.match(
      stderr,
      /tensor: float32 tensor of shape \[256, 256\] \(256\.0 KiB\): cannot allocate 256\.0 KiB .* can grow to at most 64\.0 MiB \(its limit\)/,
    );
  });
});
