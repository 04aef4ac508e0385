// What the native kernel wrappers share: the settings and the thread count.

import type { NativeSettings } from './settings.js';

export class NativeContext {
  constructor(
    public threads: number,
    readonly settings: NativeSettings,
  ) {}

  /** Threads worth using for `work` units when each thread should get at least `grain` of them. */
  threadsFor(work: number, grain: number): number {
    return Math.max(1, Math.min(this.threads, Math.floor(work / grain)));
  }
}
