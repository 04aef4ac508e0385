import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interleavedMedianMs, medianMs } from '../../src/tune/measure.ts';

const busy = (ms: number) => () => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('latency measurement', () => {
  it('warms up for at least 0.3 s however few warm-up calls are asked (V8 optimises late)', () => {
    let calls = 0;
    const t0 = performance.now();
    const median = medianMs(
      () => {
        calls++;
        busy(1)();
      },
      5,
      1,
    );
    const seconds = (performance.now() - t0) / 1000;
    assert.ok(seconds >= 0.3, `expected ≥ 0.3 s of warm-up, took ${seconds} s`);
    assert.ok(calls >= 5 + 2, `a warm-up of more than one call, then 5 timed: got ${calls} calls`);
    assert.ok(median >= 1, `median of a 1 ms call: ${median}`);
  });

  it('interleaves: every fn is warmed and timed the same number of times', () => {
    const counts = [0, 0];
    const counted = (i: number, ms: number) => () => {
      counts[i]!++;
      busy(ms)();
    };
    const [a, b] = interleavedMedianMs([counted(0, 0.2), counted(1, 5)], 9, 1);
    assert.equal(counts[0], counts[1]);
    assert.ok(b! > a!, `5 ms (${b}) > 0.2 ms (${a})`);
  });
});
