// SQLite storage: one file, safe for several processes on one machine (Optuna's RDBStorage
// with sqlite:///). WAL lets readers run beside the writer; every write is a BEGIN IMMEDIATE
// transaction (a deferred one that upgrades to a writer can fail with SQLITE_BUSY whatever the
// busy timeout), the busy timeout makes a writer wait for the lock, and a retry with backoff
// covers what is left (opening a new file from 8 processes at once, checkpoints).

import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { cloneTrial, type FrozenTrial, isFinished, type StudyDirection } from '../frozen-trial.js';
import {
  checkDirections,
  DuplicatedStudyError,
  encodeIntermediate,
  encodeValues,
  mergeUpdate,
  NotAStudyDatabaseError,
  rowToTrial,
  SCHEMA_VERSION,
  type Storage,
  type StudyRecord,
  type StudySummary,
  TRIAL_UPDATE_COLUMNS,
  TrialNotRunningError,
  type TrialRow,
  type TrialsSince,
  type TrialTemplate,
  type TrialUpdate,
  trialUpdateValues,
} from './base.js';

/** Schema by version: MIGRATIONS[v] takes a database from version v to v + 1. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE studies (
     study_id INTEGER PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     directions TEXT NOT NULL,
     user_attrs TEXT NOT NULL DEFAULT '{}',
     system_attrs TEXT NOT NULL DEFAULT '{}',
     datetime_start INTEGER NOT NULL,
     n_trials INTEGER NOT NULL DEFAULT 0,
     seq INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE trials (
     trial_id INTEGER PRIMARY KEY,
     study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
     number INTEGER NOT NULL,
     state TEXT NOT NULL,
     params TEXT NOT NULL,
     distributions TEXT NOT NULL,
     trial_values TEXT,
     intermediate TEXT NOT NULL,
     user_attrs TEXT NOT NULL,
     system_attrs TEXT NOT NULL,
     datetime_start INTEGER,
     datetime_complete INTEGER,
     heartbeat INTEGER,
     seq INTEGER NOT NULL,
     UNIQUE (study_id, number)
   );
   CREATE INDEX trials_study_seq ON trials (study_id, seq);
   CREATE INDEX trials_study_state ON trials (study_id, state, number);`,
];

export interface SqliteStorageOptions {
  /** how long a writer waits for the lock before SQLITE_BUSY, ms (default 30 s) */
  busyTimeoutMs?: number;
  /** further attempts after SQLITE_BUSY (default 20, with growing sleeps) */
  retries?: number;
}

const TRIAL_COLUMNS =
  'trial_id, number, state, params, distributions, trial_values, intermediate, user_attrs, system_attrs, datetime_start, datetime_complete';

export class SqliteStorage implements Storage {
  readonly url: string;
  private db: Database.Database;
  private retries: number;
  private statements = new Map<string, Database.Statement>();

  private constructor(
    readonly path: string,
    db: Database.Database,
    retries: number,
  ) {
    this.url = `sqlite:${path}`;
    this.db = db;
    this.retries = retries;
  }

  /** Opens (creating when missing) a study database; throws NotAStudyDatabaseError for any other file. */
  static async open(path: string, options: SqliteStorageOptions = {}): Promise<SqliteStorage> {
    const where = `sqlite:${path}`;
    if (existsSync(path) && statSync(path).isDirectory()) throw new NotAStudyDatabaseError(where, 'it is a directory');
    const retries = options.retries ?? 20;
    return withBusyRetry(retries, () => {
      let db: Database.Database;
      try {
        db = new Database(path);
        db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 30_000}`);
        db.pragma('journal_mode = WAL');
      } catch (e) {
        if (isBusy(e)) throw e;
        throw new NotAStudyDatabaseError(where, (e as Error).message);
      }
      try {
        db.pragma('synchronous = NORMAL');
        db.pragma('cache_size = -65536'); // 64 MiB of pages: a 100k-trial study stays in memory
        db.pragma('foreign_keys = ON');
        migrate(db, where);
      } catch (e) {
        db.close();
        throw e;
      }
      return new SqliteStorage(path, db, retries);
    });
  }

  async createStudy(name: string, directions: readonly StudyDirection[]): Promise<number> {
    checkDirections(directions);
    return this.write(() => {
      if (this.stmt('SELECT 1 FROM studies WHERE name = ?').get(name)) throw new DuplicatedStudyError(name, this.url);
      const r = this.db
        .prepare('INSERT INTO studies (name, directions, datetime_start) VALUES (?, ?, ?)')
        .run(name, JSON.stringify(directions), Date.now());
      return Number(r.lastInsertRowid);
    });
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const r = this.stmt('SELECT * FROM studies WHERE name = ?').get(name) as StudyDbRow | undefined;
    return r ? rowToStudy(r) : null;
  }

  async getAllStudies(): Promise<StudySummary[]> {
    return this.read(() => {
      const rows = this.stmt('SELECT * FROM studies ORDER BY study_id').all() as StudyDbRow[];
      const counts = this.stmt('SELECT study_id, state, COUNT(*) AS n FROM trials GROUP BY study_id, state').all() as {
        study_id: number;
        state: string;
        n: number;
      }[];
      return rows.map((r) => {
        const stateCounts: StudySummary['stateCounts'] = {};
        for (const c of counts) if (c.study_id === r.study_id) stateCounts[c.state as keyof StudySummary['stateCounts']] = c.n;
        return { ...rowToStudy(r), nTrials: r.n_trials, stateCounts };
      });
    });
  }

  async deleteStudy(studyId: number): Promise<void> {
    await this.write(() => {
      this.stmt('DELETE FROM trials WHERE study_id = ?').run(studyId);
      this.stmt('DELETE FROM studies WHERE study_id = ?').run(studyId);
    });
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.setStudyAttr(studyId, 'user_attrs', key, value);
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.setStudyAttr(studyId, 'system_attrs', key, value);
  }

  async createTrial(studyId: number, template: TrialTemplate): Promise<FrozenTrial> {
    return this.write(() => {
      const { number, seq } = this.bump(studyId, true);
      const now = Date.now();
      const start = template.state === 'WAITING' ? null : now;
      const complete = isFinished(template.state) ? now : null;
      const r = this.db
        .prepare(
          `INSERT INTO trials (study_id, number, state, params, distributions, trial_values, intermediate, user_attrs, system_attrs,
             datetime_start, datetime_complete, heartbeat, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          studyId,
          number,
          template.state,
          JSON.stringify(template.params ?? {}),
          JSON.stringify(template.distributions ?? {}),
          template.values ? encodeValues(template.values) : null,
          encodeIntermediate(template.intermediateValues ?? new Map()),
          JSON.stringify(template.userAttrs ?? {}),
          JSON.stringify(template.systemAttrs ?? {}),
          start,
          complete,
          template.state === 'RUNNING' ? now : null,
          seq,
        );
      return this.trialById(Number(r.lastInsertRowid));
    });
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | null> {
    return this.write(() => {
      const w = this.db
        .prepare("SELECT trial_id FROM trials WHERE study_id = ? AND state = 'WAITING' ORDER BY number LIMIT 1")
        .get(studyId) as { trial_id: number } | undefined;
      if (!w) return null;
      const { seq } = this.bump(studyId, false);
      const now = Date.now();
      this.db
        .prepare("UPDATE trials SET state = 'RUNNING', datetime_start = ?, heartbeat = ?, seq = ? WHERE trial_id = ?")
        .run(now, now, seq, w.trial_id);
      return this.trialById(w.trial_id);
    });
  }

  async updateTrial(trialId: number, update: TrialUpdate): Promise<void> {
    await this.write(() => {
      const t = this.trialById(trialId);
      if (t.state !== 'RUNNING') throw new TrialNotRunningError(trialId, t.state);
      const next = mergeUpdate(t, update, new Date());
      const { seq } = this.bump(this.studyOf(trialId), false);
      this.db
        .prepare(`UPDATE trials SET ${TRIAL_UPDATE_COLUMNS.map((c) => `${c} = ?`).join(', ')}, seq = ? WHERE trial_id = ?`)
        .run(...trialUpdateValues(next), seq, trialId);
    });
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    return this.trialById(trialId);
  }

  async getTrials(studyId: number, options: { sinceSeq?: number } = {}): Promise<TrialsSince> {
    return this.read(() => {
      const s = this.stmt('SELECT seq FROM studies WHERE study_id = ?').get(studyId) as { seq: number } | undefined;
      if (!s) throw new Error(`study id ${studyId} not found in ${this.url}`);
      const rows = this.db
        .prepare(`SELECT ${TRIAL_COLUMNS} FROM trials WHERE study_id = ? AND seq > ? ORDER BY number`)
        .all(studyId, options.sinceSeq ?? -1) as TrialRow[];
      return { trials: rows.map(rowToTrial), seq: s.seq };
    });
  }

  async heartbeat(trialId: number): Promise<void> {
    await this.write(() => {
      this.stmt("UPDATE trials SET heartbeat = ? WHERE trial_id = ? AND state = 'RUNNING'").run(Date.now(), trialId);
    });
  }

  async failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]> {
    return this.write(() => {
      const now = Date.now();
      const stale = this.db
        .prepare("SELECT trial_id FROM trials WHERE study_id = ? AND state = 'RUNNING' AND heartbeat < ?")
        .all(studyId, now - graceMs) as { trial_id: number }[];
      return stale.map(({ trial_id }) => {
        const { seq } = this.bump(studyId, false);
        this.stmt("UPDATE trials SET state = 'FAIL', datetime_complete = ?, seq = ? WHERE trial_id = ?").run(now, seq, trial_id);
        return this.trialById(trial_id);
      });
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Advances the study's write sequence (and its trial count when a trial is created). */
  private bump(studyId: number, newTrial: boolean): { number: number; seq: number } {
    const r = this.db
      .prepare(`UPDATE studies SET seq = seq + 1, n_trials = n_trials + ? WHERE study_id = ? RETURNING seq, n_trials`)
      .get(newTrial ? 1 : 0, studyId) as { seq: number; n_trials: number } | undefined;
    if (!r) throw new Error(`study id ${studyId} not found in ${this.url}`);
    return { number: r.n_trials - 1, seq: r.seq };
  }

  private studyOf(trialId: number): number {
    const r = this.stmt('SELECT study_id FROM trials WHERE trial_id = ?').get(trialId) as { study_id: number } | undefined;
    if (!r) throw new Error(`trial id ${trialId} not found in ${this.url}`);
    return r.study_id;
  }

  private trialById(trialId: number): FrozenTrial {
    const r = this.stmt(`SELECT ${TRIAL_COLUMNS} FROM trials WHERE trial_id = ?`).get(trialId) as TrialRow | undefined;
    if (!r) throw new Error(`trial id ${trialId} not found in ${this.url}`);
    return cloneTrial(rowToTrial(r));
  }

  private async setStudyAttr(studyId: number, column: 'user_attrs' | 'system_attrs', key: string, value: unknown): Promise<void> {
    await this.write(() => {
      const r = this.stmt(`SELECT ${column} AS a FROM studies WHERE study_id = ?`).get(studyId) as { a: string } | undefined;
      if (!r) throw new Error(`study id ${studyId} not found in ${this.url}`);
      const attrs = JSON.parse(r.a) as Record<string, unknown>;
      attrs[key] = value;
      this.stmt(`UPDATE studies SET ${column} = ? WHERE study_id = ?`).run(JSON.stringify(attrs), studyId);
    });
  }

  /** Prepared statements are cached: preparing one costs more than running it. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  private write<T>(fn: () => T): Promise<T> {
    return withBusyRetry(this.retries, () => this.db.transaction(fn).immediate());
  }

  private read<T>(fn: () => T): Promise<T> {
    return withBusyRetry(this.retries, () => this.db.transaction(fn).deferred());
  }
}

interface StudyDbRow {
  study_id: number;
  name: string;
  directions: string;
  user_attrs: string;
  system_attrs: string;
  datetime_start: number;
  n_trials: number;
}

function rowToStudy(r: StudyDbRow): StudyRecord {
  return {
    studyId: r.study_id,
    name: r.name,
    directions: JSON.parse(r.directions),
    userAttrs: JSON.parse(r.user_attrs),
    systemAttrs: JSON.parse(r.system_attrs),
    datetimeStart: new Date(r.datetime_start),
  };
}

/** Brings the schema to SCHEMA_VERSION; refuses files that hold other tables or a newer schema. */
function migrate(db: Database.Database, where: string): void {
  db.transaction(() => {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    let version = 0;
    if (tables.includes('attune_schema')) {
      version = (db.prepare('SELECT version FROM attune_schema').get() as { version: number } | undefined)?.version ?? 0;
    } else if (tables.length > 0) {
      throw new NotAStudyDatabaseError(where, `it has tables (${tables.slice(0, 5).join(', ')}) but no attune_schema table`);
    } else {
      db.exec('CREATE TABLE attune_schema (version INTEGER NOT NULL); INSERT INTO attune_schema VALUES (0);');
    }
    if (version > SCHEMA_VERSION) {
      throw new NotAStudyDatabaseError(
        where,
        `its schema version ${version} is newer than this attune's (${SCHEMA_VERSION}); upgrade attune`,
      );
    }
    for (let v = version; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    if (version !== SCHEMA_VERSION) db.prepare('UPDATE attune_schema SET version = ?').run(SCHEMA_VERSION);
  }).immediate();
}

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

async function withBusyRetry<T>(retries: number, fn: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (e) {
      if (!isBusy(e) || attempt >= retries) throw e;
      await new Promise((r) => setTimeout(r, Math.min(1000, 5 * 2 ** attempt) * (0.5 + Math.random())));
    }
  }
}
