// The device fingerprint: what a tuned setting is only valid for. Zen 4 and
// Zen 5 run the same kernel up to 2× apart (DESIGN.md), so the CPU model is
// in it; so are the core count, and the engine that compiles the wasm.

import { nodeModule } from '../backend/platform.js';

export interface DeviceFingerprint {
  cpu: string;
  cores: number;
  arch: string;
  platform: string;
  /** V8 compiles the wasm kernels: its version changes their code. */
  engine: string;
}

interface NodeOs {
  cpus(): { model: string }[];
  availableParallelism?(): number;
  arch(): string;
  platform(): string;
}

export function deviceFingerprint(): DeviceFingerprint {
  const os = nodeModule<NodeOs>('node:os');
  const versions = (globalThis as { process?: { versions?: Record<string, string> } }).process?.versions ?? {};
  if (!os) {
    const nav = (globalThis as { navigator?: { userAgent?: string; hardwareConcurrency?: number } }).navigator;
    return {
      cpu: 'unknown',
      cores: nav?.hardwareConcurrency ?? 1,
      arch: 'unknown',
      platform: 'browser',
      engine: nav?.userAgent ?? 'unknown',
    };
  }
  const cpus = os.cpus();
  return {
    cpu: (cpus[0]?.model ?? 'unknown').trim().replace(/\s+/g, ' '),
    cores: os.availableParallelism?.() ?? cpus.length,
    arch: os.arch(),
    platform: os.platform(),
    engine: `node ${versions.node ?? '?'} v8 ${versions.v8 ?? '?'}`,
  };
}

/** One string per device: equal fingerprints give equal ids. */
export function deviceId(d: DeviceFingerprint = deviceFingerprint()): string {
  return `${d.cpu} | ${d.cores} cores | ${d.arch} ${d.platform} | ${d.engine}`;
}
