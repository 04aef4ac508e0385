// A real PostgreSQL server per test file (scripts/postgres-test-server.sh, Debian's postgresql).
// Each call of newDatabase() gives a fresh, empty database on it.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);
const script = new URL('../../scripts/postgres-test-server.sh', import.meta.url).pathname;

export interface PostgresServer {
  port: number;
  /** a URL to a new, empty database */
  newDatabase(): Promise<string>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'attune-pg-'));
  const port = await freePort();
  await run('bash', [script, 'start', dir, String(port)]);
  let n = 0;
  const admin = `postgres://attune@127.0.0.1:${port}/postgres`;
  return {
    port,
    async newDatabase() {
      const name = `t${process.pid}_${n++}`;
      const c = new pg.Client(admin);
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      return `postgres://attune@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      await run('bash', [script, 'restart', dir]);
    },
    async stop() {
      await run('bash', [script, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
