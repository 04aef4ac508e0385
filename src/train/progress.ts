// Training progress: a bar (step, loss, throughput, ETA) when stderr is a
// terminal, plain lines otherwise (logs, CI, pipes), or nothing.

import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';

export interface ProgressValues {
  loss: number;
  lr: number;
  /** Examples per second over the recent steps. */
  throughput: number;
}

export class Progress {
  private readonly mode: Exclude<ProgressMode, 'auto'>;
  private multi: MultiBar | null = null;
  private bar: SingleBar | null = null;
  private lastLine = 0;
  private readonly started = performance.now();

  constructor(
    mode: ProgressMode,
    private totalSteps: number,
    private readonly unit = 'items',
    /** Seconds between plain lines. */
    private readonly lineInterval = 10,
  ) {
    this.mode = mode === 'auto' ? (process.stderr.isTTY ? 'bar' : 'lines') : mode;
  }

  start(step: number): void {
    if (this.mode !== 'bar') return;
    this.multi = new MultiBar(
      {
        format: 'training [{bar}] {value}/{total} | loss {loss} | {throughput} {unit}/s | lr {lr} | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
        stream: process.stderr,
        etaBuffer: 50,
      },
      Presets.shades_classic,
    );
    this.bar = this.multi.create(this.totalSteps, step, { loss: '-', throughput: '-', unit: this.unit, lr: '-' });
  }

  update(step: number, values: ProgressValues): void {
    const shown = {
      loss: values.loss.toFixed(4),
      throughput: values.throughput.toFixed(0),
      unit: this.unit,
      lr: values.lr.toExponential(2),
    };
    if (this.bar) this.bar.update(step, shown);
    else if (this.mode === 'lines') {
      const now = performance.now();
      if (now - this.lastLine < this.lineInterval * 1000 && step !== this.totalSteps) return;
      this.lastLine = now;
      const elapsed = (now - this.started) / 1000;
      console.log(
        `step ${step}/${this.totalSteps}  loss ${shown.loss}  ${shown.throughput} ${this.unit}/s  lr ${shown.lr}  elapsed ${formatSeconds(elapsed)}`,
      );
    }
  }

  /** The run's length changed (a time budget re-planned it). */
  setTotal(steps: number): void {
    this.totalSteps = steps;
    this.bar?.setTotal(steps);
  }

  /** A line above the bar (or a plain line). */
  log(line: string): void {
    if (this.mode === 'none') return;
    if (this.multi) this.multi.log(`${line}\n`);
    else console.log(line);
  }

  stop(): void {
    this.multi?.stop();
    this.multi = null;
    this.bar = null;
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
