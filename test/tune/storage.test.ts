// The storage conformance suite against memory, SQLite (a temp file) and PostgreSQL (a real
// server from scripts/postgres-test-server.sh), and what only a file-backed storage must do.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { NotAStudyDatabaseError } from '../../src/tune/storage/base.js';
import { InMemoryStorage } from '../../src/tune/storage/memory.js';
import { openStorage } from '../../src/tune/storage/open.js';
import { PostgresStorage } from '../../src/tune/storage/postgres.js';
import { SqliteStorage } from '../../src/tune/storage/sqlite.js';
import { type PostgresServer, startPostgres } from './postgres-server.js';
import { storageConformance } from './storage-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'attune-storage-'));
let n = 0;
let server: PostgresServer;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

storageConformance('memory', async () => new InMemoryStorage());
storageConformance('sqlite', () => SqliteStorage.open(join(dir, `c${n++}.db`)));
storageConformance('postgres', async () => PostgresStorage.connect(await server.newDatabase()));

describe('sqlite file', () => {
  test('a study persists across opens', async () => {
    const path = join(dir, 'persist.db');
    const a = await SqliteStorage.open(path);
    const id = await a.createStudy('s', ['maximize']);
    await a.createTrial(id, { state: 'COMPLETE', values: [2], params: { x: 1 } });
    await a.close();
    const b = await openStorage(`sqlite:${path}`);
    const r = (await b.getStudy('s'))!;
    const { trials } = await b.getTrials(r.studyId);
    assert.deepEqual(trials[0]!.values, [2]);
    await b.close();
  });

  test('a file that is not a study database gets a clear error', async () => {
    const text = join(dir, 'notes.db');
    writeFileSync(text, 'these are my notes, not a database\n'.repeat(100));
    await assert.rejects(
      SqliteStorage.open(text),
      (e: unknown) => e instanceof NotAStudyDatabaseError && /notes\.db is not an attune study database/.test(e.message),
    );
    const other = join(dir, 'other.db');
    const db = new Database(other);
    db.exec('CREATE TABLE customers (id INTEGER)');
    db.close();
    await assert.rejects(SqliteStorage.open(other), /not an attune study database: it has tables \(customers\) but no attune_schema table/);
    await assert.rejects(SqliteStorage.open(dir), /is a directory/);
  });

  test('a newer schema version is refused, naming both versions', async () => {
    const path = join(dir, 'newer.db');
    (await SqliteStorage.open(path)).close();
    const db = new Database(path);
    db.exec('UPDATE attune_schema SET version = 99');
    db.close();
    await assert.rejects(SqliteStorage.open(path), /schema version 99 is newer than this attune's \(1\)/);
  });

  test('an unknown storage URL is a clear error', async () => {
    await assert.rejects(
      openStorage('mysql://x'),
      /expected 'memory', 'sqlite:path', a \.db file or 'postgres:\/\/\.\.\.', got "mysql:\/\/x"/,
    );
  });
});
