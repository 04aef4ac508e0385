// Metrics as JSON lines: one object per record, appended as it happens, so
// a run stopped at any point leaves a readable file.

import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export class MetricsLog {
  constructor(readonly path: string | null) {
    if (path) mkdirSync(dirname(path), { recursive: true });
  }

  write(record: Record<string, unknown>): void {
    if (this.path) appendFileSync(this.path, `${JSON.stringify(record)}\n`);
  }
}
