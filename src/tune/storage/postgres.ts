// PostgreSQL storage: many workers on many machines share one study. Each write is a
// transaction that first locks the study row (trial numbers and the write sequence come from
// it); a WAITING trial is claimed with SELECT ... FOR UPDATE SKIP LOCKED, so no two workers run
// the same one. Heartbeats use the server's clock. A dropped connection or a restarting server
// is retried with backoff for `retryForMs`; a finishing write whose commit was lost and then
// retried is recognised and not reported as an error.

import pg from 'pg';
import type { FrozenTrial, StudyDirection } from '../frozen-trial.js';
import {
  checkDirections,
  DuplicatedStudyError,
  encodeIntermediate,
  encodeValues,
  mergeUpdate,
  NotAStudyDatabaseError,
  redactUrl,
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

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE attune_studies (
     study_id BIGSERIAL PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     directions TEXT NOT NULL,
     user_attrs TEXT NOT NULL DEFAULT '{}',
     system_attrs TEXT NOT NULL DEFAULT '{}',
     datetime_start BIGINT NOT NULL,
     n_trials BIGINT NOT NULL DEFAULT 0,
     seq BIGINT NOT NULL DEFAULT 0
   );
   CREATE TABLE attune_trials (
     trial_id BIGSERIAL PRIMARY KEY,
     study_id BIGINT NOT NULL REFERENCES attune_studies(study_id) ON DELETE CASCADE,
     number BIGINT NOT NULL,
     state TEXT NOT NULL,
     params TEXT NOT NULL,
     distributions TEXT NOT NULL,
     trial_values TEXT,
     intermediate TEXT NOT NULL,
     user_attrs TEXT NOT NULL,
     system_attrs TEXT NOT NULL,
     datetime_start BIGINT,
     datetime_complete BIGINT,
     heartbeat TIMESTAMPTZ,
     seq BIGINT NOT NULL,
     UNIQUE (study_id, number)
   );
   CREATE INDEX attune_trials_study_seq ON attune_trials (study_id, seq);
   CREATE INDEX attune_trials_study_state ON attune_trials (study_id, state, number);`,
];

/** Arbitrary key of the advisory lock that serialises schema migrations. */
const MIGRATION_LOCK = 774_211_016;

const TRIAL_COLUMNS =
  'trial_id, number, state, params, distributions, trial_values, intermediate, user_attrs, system_attrs, datetime_start, datetime_complete';

export interface PostgresStorageOptions {
  /** keep retrying a lost connection or a restarting server this long, ms (default 60 s) */
  retryForMs?: number;
  /** connections per process (default 2: the worker and its heartbeat) */
  poolSize?: number;
}

type Query = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

export class PostgresStorage implements Storage {
  /** the connection URL (workers open it again); `where` is the same without the password, for messages */
  readonly url: string;
  readonly where: string;
  private pool: pg.Pool;
  private retryForMs: number;

  private constructor(url: string, pool: pg.Pool, retryForMs: number) {
    this.url = url;
    this.where = redactUrl(url);
    this.pool = pool;
    this.retryForMs = retryForMs;
  }

  static async connect(url: string, options: PostgresStorageOptions = {}): Promise<PostgresStorage> {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 2 });
    // an idle client whose server went away emits 'error' on the pool; the next query reconnects
    pool.on('error', () => {});
    const s = new PostgresStorage(url, pool, options.retryForMs ?? 60_000);
    try {
      await s.tx(async (q) => {
        await q('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await q('CREATE TABLE IF NOT EXISTS attune_schema (version INTEGER NOT NULL)');
        const r = await q('SELECT version FROM attune_schema');
        const version = r.rows.length ? Number(r.rows[0].version) : 0;
        if (version > SCHEMA_VERSION) {
          throw new NotAStudyDatabaseError(
            s.where,
            `its schema version ${version} is newer than this attune's (${SCHEMA_VERSION}); upgrade attune`,
          );
        }
        for (let v = version; v < SCHEMA_VERSION; v++) await q(MIGRATIONS[v]!);
        if (r.rows.length === 0) await q('INSERT INTO attune_schema VALUES ($1)', [SCHEMA_VERSION]);
        else if (version !== SCHEMA_VERSION) await q('UPDATE attune_schema SET version = $1', [SCHEMA_VERSION]);
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return s;
  }

  async createStudy(name: string, directions: readonly StudyDirection[]): Promise<number> {
    checkDirections(directions);
    return this.tx(async (q) => {
      const r = await q(
        `INSERT INTO attune_studies (name, directions, datetime_start) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO NOTHING RETURNING study_id`,
        [name, JSON.stringify(directions), Date.now()],
      );
      if (r.rows.length === 0) throw new DuplicatedStudyError(name, this.where);
      return Number(r.rows[0].study_id);
    });
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const r = await this.query('SELECT * FROM attune_studies WHERE name = $1', [name]);
    return r.rows.length ? rowToStudy(r.rows[0]) : null;
  }

  async getAllStudies(): Promise<StudySummary[]> {
    return this.tx(async (q) => {
      const rows = (await q('SELECT * FROM attune_studies ORDER BY study_id')).rows;
      const counts = (await q('SELECT study_id, state, COUNT(*) AS n FROM attune_trials GROUP BY study_id, state')).rows;
      return rows.map((r) => {
        const stateCounts: StudySummary['stateCounts'] = {};
        for (const c of counts)
          if (String(c.study_id) === String(r.study_id)) stateCounts[c.state as keyof StudySummary['stateCounts']] = Number(c.n);
        return { ...rowToStudy(r), nTrials: Number(r.n_trials), stateCounts };
      });
    }, 'REPEATABLE READ');
  }

  async deleteStudy(studyId: number): Promise<void> {
    await this.tx(async (q) => {
      await q('DELETE FROM attune_trials WHERE study_id = $1', [studyId]);
      await q('DELETE FROM attune_studies WHERE study_id = $1', [studyId]);
    });
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.setStudyAttr(studyId, 'user_attrs', key, value);
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    await this.setStudyAttr(studyId, 'system_attrs', key, value);
  }

  async createTrial(studyId: number, template: TrialTemplate): Promise<FrozenTrial> {
    return this.tx(async (q) => {
      const { number, seq } = await this.bump(q, studyId, true);
      const now = Date.now();
      const running = template.state === 'RUNNING';
      const finished = !running && template.state !== 'WAITING';
      const r = await q(
        `INSERT INTO attune_trials (study_id, number, state, params, distributions, trial_values, intermediate, user_attrs,
           system_attrs, datetime_start, datetime_complete, heartbeat, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $12::boolean THEN now() END, $13) RETURNING ${TRIAL_COLUMNS}`,
        [
          studyId,
          number,
          template.state,
          JSON.stringify(template.params ?? {}),
          JSON.stringify(template.distributions ?? {}),
          template.values ? encodeValues(template.values) : null,
          encodeIntermediate(template.intermediateValues ?? new Map()),
          JSON.stringify(template.userAttrs ?? {}),
          JSON.stringify(template.systemAttrs ?? {}),
          template.state === 'WAITING' ? null : now,
          finished ? now : null,
          running,
          seq,
        ],
      );
      return rowToTrial(r.rows[0] as TrialRow);
    });
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | null> {
    return this.tx(async (q) => {
      const w = await q(
        `SELECT trial_id FROM attune_trials WHERE study_id = $1 AND state = 'WAITING' ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [studyId],
      );
      if (w.rows.length === 0) return null;
      const { seq } = await this.bump(q, studyId, false);
      const r = await q(
        `UPDATE attune_trials SET state = 'RUNNING', datetime_start = $1, heartbeat = now(), seq = $2 WHERE trial_id = $3
         RETURNING ${TRIAL_COLUMNS}`,
        [Date.now(), seq, w.rows[0].trial_id],
      );
      return rowToTrial(r.rows[0] as TrialRow);
    });
  }

  async updateTrial(trialId: number, update: TrialUpdate): Promise<void> {
    let attempt = 0;
    await this.tx(async (q) => {
      attempt++;
      const studyId = await this.studyOf(q, trialId);
      const { seq } = await this.bump(q, studyId, false);
      const t = await this.trialById(q, trialId, true);
      if (t.state !== 'RUNNING') {
        // the same finishing write, retried after its commit was acknowledged by nobody
        if (attempt > 1 && update.state === t.state) return;
        throw new TrialNotRunningError(trialId, t.state);
      }
      const next = mergeUpdate(t, update, new Date());
      const n = TRIAL_UPDATE_COLUMNS.length;
      await q(
        `UPDATE attune_trials SET ${TRIAL_UPDATE_COLUMNS.map((c, i) => `${c} = $${i + 1}`).join(', ')}, seq = $${n + 1} WHERE trial_id = $${n + 2}`,
        [...trialUpdateValues(next), seq, trialId],
      );
    });
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    return this.tx((q) => this.trialById(q, trialId, false));
  }

  async getTrials(studyId: number, options: { sinceSeq?: number } = {}): Promise<TrialsSince> {
    return this.tx(async (q) => {
      const s = await q('SELECT seq FROM attune_studies WHERE study_id = $1', [studyId]);
      if (s.rows.length === 0) throw new Error(`study id ${studyId} not found in ${this.where}`);
      const r = await q(`SELECT ${TRIAL_COLUMNS} FROM attune_trials WHERE study_id = $1 AND seq > $2 ORDER BY number`, [
        studyId,
        options.sinceSeq ?? -1,
      ]);
      return { trials: r.rows.map((row) => rowToTrial(row as TrialRow)), seq: Number(s.rows[0].seq) };
    }, 'REPEATABLE READ');
  }

  async heartbeat(trialId: number): Promise<void> {
    await this.query(`UPDATE attune_trials SET heartbeat = now() WHERE trial_id = $1 AND state = 'RUNNING'`, [trialId]);
  }

  async failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]> {
    return this.tx(async (q) => {
      const stale = await q(
        `SELECT trial_id FROM attune_trials WHERE study_id = $1 AND state = 'RUNNING' AND heartbeat < now() - make_interval(secs => $2)
         FOR UPDATE SKIP LOCKED`,
        [studyId, graceMs / 1000],
      );
      const failed: FrozenTrial[] = [];
      for (const { trial_id } of stale.rows) {
        const { seq } = await this.bump(q, studyId, false);
        const r = await q(
          `UPDATE attune_trials SET state = 'FAIL', datetime_complete = $1, seq = $2 WHERE trial_id = $3 RETURNING ${TRIAL_COLUMNS}`,
          [Date.now(), seq, trial_id],
        );
        failed.push(rowToTrial(r.rows[0] as TrialRow));
      }
      return failed;
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** Locks the study row and advances its write sequence (and trial count for a new trial). */
  private async bump(q: Query, studyId: number, newTrial: boolean): Promise<{ number: number; seq: number }> {
    const r = await q('UPDATE attune_studies SET seq = seq + 1, n_trials = n_trials + $1 WHERE study_id = $2 RETURNING seq, n_trials', [
      newTrial ? 1 : 0,
      studyId,
    ]);
    if (r.rows.length === 0) throw new Error(`study id ${studyId} not found in ${this.where}`);
    return { number: Number(r.rows[0].n_trials) - 1, seq: Number(r.rows[0].seq) };
  }

  private async studyOf(q: Query, trialId: number): Promise<number> {
    const r = await q('SELECT study_id FROM attune_trials WHERE trial_id = $1', [trialId]);
    if (r.rows.length === 0) throw new Error(`trial id ${trialId} not found in ${this.where}`);
    return Number(r.rows[0].study_id);
  }

  private async trialById(q: Query, trialId: number, forUpdate: boolean): Promise<FrozenTrial> {
    const r = await q(`SELECT ${TRIAL_COLUMNS} FROM attune_trials WHERE trial_id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [trialId]);
    if (r.rows.length === 0) throw new Error(`trial id ${trialId} not found in ${this.where}`);
    return rowToTrial(r.rows[0] as TrialRow);
  }

  private async setStudyAttr(studyId: number, column: 'user_attrs' | 'system_attrs', key: string, value: unknown): Promise<void> {
    await this.tx(async (q) => {
      const r = await q(`SELECT ${column} AS a FROM attune_studies WHERE study_id = $1 FOR UPDATE`, [studyId]);
      if (r.rows.length === 0) throw new Error(`study id ${studyId} not found in ${this.where}`);
      const attrs = JSON.parse(r.rows[0].a) as Record<string, unknown>;
      attrs[key] = value;
      await q(`UPDATE attune_studies SET ${column} = $1 WHERE study_id = $2`, [JSON.stringify(attrs), studyId]);
    });
  }

  private query(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
    return this.retry(() => this.pool.query(sql, params));
  }

  /** Runs fn in one transaction on one connection, retried whole on a connection error. */
  private tx<T>(fn: (q: Query) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
    return this.retry(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      // a server that goes away between two queries emits 'error' on the checked-out client
      const onError = (e: Error) => {
        broken = e;
      };
      client.on('error', onError);
      try {
        await client.query(`BEGIN ISOLATION LEVEL ${isolation}`);
        const result = await fn((sql, params) => client.query(sql, params));
        await client.query('COMMIT');
        return result;
      } catch (e) {
        if (isTransient(e)) broken = e as Error;
        else await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    });
  }

  private async retry<T>(fn: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.retryForMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!isTransient(e) || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, Math.min(2000, 20 * 2 ** attempt) * (0.5 + Math.random())));
      }
    }
  }
}

/** Errors after which the same transaction may succeed: lost connections, a restarting server, conflicts. */
function isTransient(e: unknown): boolean {
  const code = String((e as { code?: unknown }).code ?? '');
  if (/^(08|57P0|40001|40P01|53300)/.test(code)) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
  const msg = String((e as { message?: unknown }).message ?? '');
  return /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error|the database system is (starting up|shutting down)/i.test(
    msg,
  );
}

function rowToStudy(r: Record<string, string>): StudyRecord {
  return {
    studyId: Number(r.study_id),
    name: r.name!,
    directions: JSON.parse(r.directions!),
    userAttrs: JSON.parse(r.user_attrs!),
    systemAttrs: JSON.parse(r.system_attrs!),
    datetimeStart: new Date(Number(r.datetime_start)),
  };
}
