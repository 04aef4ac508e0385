// One conformance suite for every fast backend: the same kernel tests, run
// against the js reference, on random shapes (size 1, odd sizes that leave a
// partial SIMD vector, every broadcast pattern), extreme values, and 1, 2 and
// 3 threads. Tiny tensors are forced onto every thread (empty shares
// included); one test keeps the built-in thresholds on large inputs.
// CONFORMANCE_RUNS=200 for a longer property run.
//
// A backend's test file calls describeBackendConformance with its registered
// name (test/backend/conformance-wasm.test.ts, conformance-native.test.ts).

import { after, before, describe } from 'node:test';
import { type Backend, getBackend, listBackends, registerBackend, withBackend } from '../../src/backend/backend.ts';
import { attentionConformance } from './conformance/attention.ts';
import { elementwiseConformance } from './conformance/elementwise.ts';
import { matmulConformance } from './conformance/matmul.ts';
import { normAndGatherConformance } from './conformance/norm-gather.ts';
import { rowConformance } from './conformance/rows.ts';
import { makeTarget } from './conformance/support.ts';

export interface ConformanceOptions {
  /** Shown in the suite's title (e.g. which build). */
  label?: string;
  /** Register this backend under `name` for the tests (e.g. another build of the same kernels); the one registered before comes back after. */
  backend?: () => Backend;
  /** Make even tiny inputs split over the threads (on) or restore the built-in thresholds (off). */
  forceParallel?: (on: boolean) => void;
  /** Why the suite is skipped, when it is (e.g. the backend did not load). */
  skip?: string | false;
  threads?: readonly number[];
}

/** Registers the conformance suite for the backend registered as `name`; skipped with a message when it is not registered. */
export function describeBackendConformance(name: string, options: ConformanceOptions = {}): void {
  const skip = options.skip || (!options.backend && !listBackends().includes(name) ? `backend '${name}' is not registered here` : false);
  const target = makeTarget(name, options.forceParallel ?? (() => {}), options.threads);
  describe(`${name} kernels${options.label ? ` (${options.label})` : ''} match the js reference`, { skip }, () => {
    let previous: Backend | null = null;
    before(() => {
      if (options.backend) {
        previous = listBackends().includes(name) ? withBackend(name, getBackend) : null;
        registerBackend(options.backend());
      }
      target.forceParallel(true);
    });
    after(() => {
      target.forceParallel(false);
      target.setThreads(1);
      if (previous) registerBackend(previous);
    });
    elementwiseConformance(target);
    rowConformance(target);
    normAndGatherConformance(target);
    attentionConformance(target);
    matmulConformance(target);
  });
}
