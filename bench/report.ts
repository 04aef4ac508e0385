// Reporting benchmark results: one table per workload with ratios against a named
// baseline row, and the JSON file in bench/results/ with the machine it ran on.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult, CaseSpec, Workload } from './harness.js';
import { contended, workloadLabel } from './harness.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const mib = 1024 * 1024;

export function caseLabel(spec: CaseSpec): string {
  return `${spec.system} ${spec.variant} ×${spec.threads}`;
}

function formatSeconds(s: number): string {
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(2)} s`;
}

export interface TableOptions {
  /** Label (caseLabel) of the row ratios are taken against, or one per workload. */
  baseline?: string | ((workload: Workload) => string);
  title?: string;
}

/**
 * Prints one table per workload: median time, GFLOP/s, ratio vs the baseline row
 * (baseline time / row time: > 1 is faster than the baseline), CPU seconds per wall
 * second, peak RSS in MiB, max relative error against the reference, and why a row
 * has no time (skipped, mismatch, failed).
 */
export function printTable(results: CaseResult[], options: TableOptions = {}): void {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    const key = workloadLabel(r.spec.workload);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  if (options.title) console.log(`\n${options.title}`);
  for (const [workload, rows] of groups) {
    const { baseline } = options;
    const baseLabel = typeof baseline === 'function' ? baseline(rows[0].spec.workload) : baseline;
    const base = rows.find((r) => caseLabel(r.spec) === baseLabel && r.seconds !== undefined);
    const table = rows.map((r) => {
      const ok = r.status === 'ok' && r.seconds !== undefined;
      return [
        caseLabel(r.spec),
        ok ? formatSeconds(r.seconds as number) : r.status,
        ok ? (r.gflops as number).toFixed(1) : '',
        ok && base ? `${((base.seconds as number) / (r.seconds as number)).toFixed(2)}×` : '',
        r.cpuPerWall !== undefined ? `${r.cpuPerWall.toFixed(1)}${contended(r) ? '!' : ''}` : '',
        r.peakRssMiB !== undefined ? r.peakRssMiB.toFixed(0) : '',
        typeof r.maxRelError === 'number' ? r.maxRelError.toExponential(1) : r.maxRelError === null ? '∞' : '',
        shortReason(r.reason),
      ];
    });
    const header = ['system variant ×threads', 'median', 'GFLOP/s', base ? 'vs base' : '', 'cpu', 'peak MiB', 'rel err', ''];
    const widths = header.map((h, c) => Math.max(h.length, ...table.map((row) => row[c].length)));
    const line = (cells: string[]) =>
      cells
        .map((cell, c) => (c === 0 || c === cells.length - 1 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
        .join('  ')
        .trimEnd();
    console.log(`\n${workload}${base ? `   (vs base: time of ${baseLabel} / time of the row)` : ''}`);
    console.log(line(header));
    for (const row of table) console.log(line(row));
  }
  if (results.some(contended)) {
    console.log('\n! the threads got under 80% of their cores while timing: a busy machine; rerun that row');
  }
}

/** One line of at most 100 characters, without the build paths native errors carry. */
function shortReason(reason: string | undefined): string {
  if (!reason) return '';
  const line = reason.replace(/\s+/g, ' ').replace(/\/\S+\/(\S+:\d+)/g, '$1');
  return line.length > 100 ? `${line.slice(0, 99)}…` : line;
}

function packageVersion(name: string): string | undefined {
  try {
    const file = path.join(benchDir, '..', 'node_modules', name, 'package.json');
    return JSON.parse(readFileSync(file, 'utf8')).version;
  } catch {
    return undefined;
  }
}

export function machineInfo() {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {}
  return {
    cpu,
    cores: os.availableParallelism(),
    loadAverage: os.loadavg(),
    memoryMiB: Math.round(os.totalmem() / mib),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
    versions: Object.fromEntries(
      ['onnxruntime-node', 'onnxruntime-web', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm'].map((p) => [p, packageVersion(p)]),
    ),
  };
}

/** Writes bench/results/<name>.json (machine info + a summary of every result), atomically. */
export function writeResults(name: string, results: CaseResult[], extra: Record<string, unknown> = {}): string {
  const dir = path.join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  // summaries only: each case's samples become their count, min and max (the median is `seconds`)
  const compact = results.map(({ samples, ...rest }) =>
    samples && samples.length > 0
      ? { ...rest, sampleCount: samples.length, minSeconds: Math.min(...samples), maxSeconds: Math.max(...samples) }
      : rest,
  );
  // one line per result keeps the file short enough to read and diff
  const head = JSON.stringify({ name, machine: machineInfo(), ...extra }, null, 2).slice(0, -2);
  const body = `${head},\n  "results": [\n${compact.map((r) => `    ${JSON.stringify(r)}`).join(',\n')}\n  ]\n}\n`;
  writeFileSync(`${file}.tmp`, body);
  renameSync(`${file}.tmp`, file);
  return file;
}
