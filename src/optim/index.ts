export { AdamW, type AdamWOptions } from './adamw.js';
export { clipGradNorm, gradNorm } from './clip.js';
export { type HasNamedParameters, type ParameterGroupOptions, parameterGroups } from './groups.js';
export { Optimizer, type OptimizerMeta, type OptimizerState, type ParamGroup, type ResolvedGroup } from './optimizer.js';
export { constantSchedule, createSchedule, type LrSchedule, type ScheduleOptions, warmupCosine, warmupLinear } from './schedule.js';
export { SGD, type SGDOptions } from './sgd.js';
