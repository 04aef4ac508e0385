// attune/tune: studies and trials in Optuna's vocabulary, samplers, pruners,
// storages and parameter importances. Node only (SQLite and PostgreSQL).

// the engine (backends, autograd) comes up with the package root
import '../index.js';

export type { CategoricalDistribution, Distribution, FloatDistribution, IntDistribution, ParamValue } from './distributions.js';
export { type FrozenTrial, isFeasible, type StudyDirection, type StudyView, type TrialState } from './frozen-trial.js';
export { fanovaImportances, type ImportanceOptions } from './importance/fanova.js';
export { SuccessiveHalvingPruner } from './pruners/asha.js';
export type { Pruner } from './pruners/base.js';
export { HyperbandPruner } from './pruners/hyperband.js';
export { MedianPruner, PercentilePruner } from './pruners/median.js';
export { NopPruner } from './pruners/nop.js';
export type { Sampler } from './samplers/base.js';
export { GridSampler } from './samplers/grid.js';
export { NSGAIISampler } from './samplers/nsga2.js';
export { RandomSampler } from './samplers/random.js';
export { TPESampler } from './samplers/tpe.js';
export type { Storage } from './storage/base.js';
export { InMemoryStorage } from './storage/memory.js';
export { openStorage } from './storage/open.js';
export { PostgresStorage } from './storage/postgres.js';
export { SqliteStorage } from './storage/sqlite.js';
export { createStudy, deleteStudy, loadStudy, Study, type StudyOptions } from './study.js';
export { Trial, TrialPruned } from './trial.js';
