// In-memory storage: one process, nothing persisted (Optuna's InMemoryStorage).

import { cloneTrial, type FrozenTrial, isFinished, type StudyDirection } from '../frozen-trial.js';
import {
  checkDirections,
  DuplicatedStudyError,
  mergeUpdate,
  type Storage,
  type StudyRecord,
  type StudySummary,
  TrialNotRunningError,
  type TrialsSince,
  type TrialTemplate,
  type TrialUpdate,
} from './base.js';

interface StudyEntry {
  record: StudyRecord;
  trials: FrozenTrial[];
  /** seq of the last write to each trial, parallel to trials */
  trialSeq: number[];
  seq: number;
}

export class InMemoryStorage implements Storage {
  readonly url = 'memory';
  private studies = new Map<number, StudyEntry>();
  private trialIndex = new Map<number, { studyId: number; number: number }>();
  private heartbeats = new Map<number, number>();
  private nextStudyId = 1;
  private nextTrialId = 1;

  async createStudy(name: string, directions: readonly StudyDirection[]): Promise<number> {
    checkDirections(directions);
    if (this.findStudy(name)) throw new DuplicatedStudyError(name, this.url);
    const studyId = this.nextStudyId++;
    const record: StudyRecord = { studyId, name, directions: [...directions], userAttrs: {}, systemAttrs: {}, datetimeStart: new Date() };
    this.studies.set(studyId, { record, trials: [], trialSeq: [], seq: 0 });
    return studyId;
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const s = this.findStudy(name);
    return s ? structuredClone(s.record) : null;
  }

  async getAllStudies(): Promise<StudySummary[]> {
    return [...this.studies.values()].map((s) => {
      const stateCounts: StudySummary['stateCounts'] = {};
      for (const t of s.trials) stateCounts[t.state] = (stateCounts[t.state] ?? 0) + 1;
      return { ...structuredClone(s.record), nTrials: s.trials.length, stateCounts };
    });
  }

  async deleteStudy(studyId: number): Promise<void> {
    const s = this.entry(studyId);
    for (const t of s.trials) {
      this.trialIndex.delete(t.trialId);
      this.heartbeats.delete(t.trialId);
    }
    this.studies.delete(studyId);
  }

  async setStudyUserAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.entry(studyId).record.userAttrs[key] = structuredClone(value);
  }

  async setStudySystemAttr(studyId: number, key: string, value: unknown): Promise<void> {
    this.entry(studyId).record.systemAttrs[key] = structuredClone(value);
  }

  async createTrial(studyId: number, template: TrialTemplate): Promise<FrozenTrial> {
    const s = this.entry(studyId);
    const now = new Date();
    const trial: FrozenTrial = {
      number: s.trials.length,
      trialId: this.nextTrialId++,
      state: template.state,
      params: { ...template.params },
      distributions: { ...template.distributions },
      values: template.values ? [...template.values] : null,
      intermediateValues: new Map(template.intermediateValues),
      userAttrs: structuredClone(template.userAttrs ?? {}),
      systemAttrs: structuredClone(template.systemAttrs ?? {}),
      datetimeStart: template.state === 'WAITING' ? null : now,
      datetimeComplete: isFinished(template.state) ? now : null,
    };
    s.trials.push(trial);
    s.trialSeq.push(++s.seq);
    this.trialIndex.set(trial.trialId, { studyId, number: trial.number });
    if (trial.state === 'RUNNING') this.heartbeats.set(trial.trialId, Date.now());
    return cloneTrial(trial);
  }

  async claimWaitingTrial(studyId: number): Promise<FrozenTrial | null> {
    const s = this.entry(studyId);
    const i = s.trials.findIndex((t) => t.state === 'WAITING');
    if (i < 0) return null;
    const t = s.trials[i]!;
    t.state = 'RUNNING';
    t.datetimeStart = new Date();
    s.trialSeq[i] = ++s.seq;
    this.heartbeats.set(t.trialId, Date.now());
    return cloneTrial(t);
  }

  async updateTrial(trialId: number, update: TrialUpdate): Promise<void> {
    const { s, i } = this.locate(trialId);
    const t = s.trials[i]!;
    if (t.state !== 'RUNNING') throw new TrialNotRunningError(trialId, t.state);
    s.trials[i] = cloneTrial(mergeUpdate(t, update, new Date()));
    s.trialSeq[i] = ++s.seq;
    if (s.trials[i]!.state !== 'RUNNING') this.heartbeats.delete(trialId);
  }

  async getTrial(trialId: number): Promise<FrozenTrial> {
    const { s, i } = this.locate(trialId);
    return cloneTrial(s.trials[i]!);
  }

  async getTrials(studyId: number, options: { sinceSeq?: number } = {}): Promise<TrialsSince> {
    const s = this.entry(studyId);
    const since = options.sinceSeq ?? -1;
    const trials = s.trials.filter((_, i) => s.trialSeq[i]! > since).map(cloneTrial);
    return { trials, seq: s.seq };
  }

  async heartbeat(trialId: number): Promise<void> {
    const { s, i } = this.locate(trialId);
    if (s.trials[i]!.state === 'RUNNING') this.heartbeats.set(trialId, Date.now());
  }

  async failStaleTrials(studyId: number, graceMs: number): Promise<FrozenTrial[]> {
    const s = this.entry(studyId);
    const now = Date.now();
    const failed: FrozenTrial[] = [];
    s.trials.forEach((t, i) => {
      const beat = this.heartbeats.get(t.trialId);
      if (t.state !== 'RUNNING' || beat === undefined || now - beat <= graceMs) return;
      t.state = 'FAIL';
      t.datetimeComplete = new Date(now);
      s.trialSeq[i] = ++s.seq;
      this.heartbeats.delete(t.trialId);
      failed.push(cloneTrial(t));
    });
    return failed;
  }

  async close(): Promise<void> {}

  private findStudy(name: string): StudyEntry | undefined {
    for (const s of this.studies.values()) if (s.record.name === name) return s;
    return undefined;
  }

  private entry(studyId: number): StudyEntry {
    const s = this.studies.get(studyId);
    if (!s) throw new Error(`study id ${studyId} not found in ${this.url}`);
    return s;
  }

  private locate(trialId: number): { s: StudyEntry; i: number } {
    const at = this.trialIndex.get(trialId);
    if (!at) throw new Error(`trial id ${trialId} not found in ${this.url}`);
    return { s: this.entry(at.studyId), i: at.number };
  }
}
