// One benchmark process: `node --expose-gc --import tsx bench/child.ts '<json CaseSpec[]>'`.
// All specs share module, system and threads. For each case: make the seeded inputs,
// set up, run once, check against the reference, and only then time; one result line
// per case on stdout (harness.formatResultLine). After a failed case it exits, and
// the runner goes on with the remaining cases in a fresh process.

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CaseResult, CaseSpec, System } from './harness.js';
import {
  defaultTiming,
  formatResultLine,
  makeInputs,
  peakRssMiB,
  resetPeakRss,
  rssMiB,
  SkipCase,
  timeIt,
  workloadFlops,
} from './harness.js';
import { cachedReference, compareOutputs } from './reference.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));

async function loadSystem(spec: CaseSpec): Promise<System> {
  const url = pathToFileURL(path.resolve(benchDir, spec.module)).href;
  const module = (await import(url)) as { systems?: System[] };
  const system = module.systems?.find((s) => s.name === spec.system);
  if (!system) throw new Error(`bench: ${spec.module} exports no system named ${spec.system}`);
  return system;
}

function collectGarbage() {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
}

/** Runs one case in this process. */
export async function runCase(system: System, spec: CaseSpec): Promise<CaseResult> {
  const flops = workloadFlops(spec.workload);
  const result: CaseResult = { spec, status: 'ok', flops };
  if (system.maxThreads !== undefined && spec.threads > system.maxThreads) {
    return { ...result, status: 'skipped', reason: `${system.name} runs at most ${system.maxThreads} thread(s)` };
  }
  if (!system.variants(spec.workload).includes(spec.variant)) {
    return { ...result, status: 'skipped', reason: `no variant ${spec.variant} for this workload` };
  }
  const seed = spec.seed ?? 1;
  const inputs = makeInputs(spec.workload, seed);
  collectGarbage();
  result.rssBeforeSetupMiB = rssMiB();
  const setupStart = performance.now();
  let benchCase: Awaited<ReturnType<System['setup']>>;
  try {
    benchCase = await system.setup(spec, inputs);
  } catch (error) {
    const status = error instanceof SkipCase ? 'skipped' : 'failed';
    return { ...result, status, reason: error instanceof Error ? error.message : String(error) };
  }
  try {
    await benchCase.run();
    result.setupSeconds = (performance.now() - setupStart) / 1e3;
    const reference = cachedReference(spec.workload, seed, inputs);
    const comparison = compareOutputs(spec.workload, await benchCase.outputs(), reference, spec.tolerance ?? 1e-3);
    result.maxRelError = Number.isFinite(comparison.maxRelError) ? comparison.maxRelError : null;
    if (comparison.problem) return { ...result, status: 'mismatch', reason: comparison.problem };
    collectGarbage();
    resetPeakRss();
    let sampledPeak = 0;
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    const timing = await timeIt(
      () => benchCase.run(),
      { ...defaultTiming, ...spec.timing },
      () => {
        sampledPeak = Math.max(sampledPeak, rssMiB());
      },
    );
    const cpu = process.cpuUsage(cpuStart);
    result.cpuPerWall = (cpu.user + cpu.system) / 1e3 / (performance.now() - wallStart);
    result.seconds = timing.median;
    result.samples = timing.samples;
    result.gflops = flops / timing.median / 1e9;
    result.peakRssMiB = Math.max(peakRssMiB(), sampledPeak);
    return result;
  } catch (error) {
    return { ...result, status: 'failed', reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await benchCase.dispose();
  }
}

/** Writes a result line and waits until it is flushed: process.exit drops pending pipe writes. */
function report(result: CaseResult): Promise<void> {
  return new Promise((resolve) => process.stdout.write(`${formatResultLine(result)}\n`, () => resolve()));
}

async function main() {
  const specs = JSON.parse(process.argv[2] ?? '[]') as CaseSpec[];
  if (specs.length === 0) throw new Error('bench/child.ts: expected a JSON array of case specs');
  let system: System;
  try {
    system = await loadSystem(specs[0]);
    await system.init?.(specs[0].threads);
  } catch (error) {
    const reason = `init: ${error instanceof Error ? error.message : String(error)}`;
    for (const spec of specs) {
      await report({ spec, status: 'failed', reason, flops: workloadFlops(spec.workload) });
    }
    process.exit(0);
  }
  for (const spec of specs) {
    const result = await runCase(system, spec);
    await report(result);
    // a failed run may leave the library broken (a wasm heap after bad_alloc):
    // stop here, and the runner starts a fresh process for the rest
    if (result.status === 'failed') break;
  }
  // thread pools (ort-web workers, ort-node) would keep the process alive
  process.exit(0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
