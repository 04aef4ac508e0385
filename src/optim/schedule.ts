// Learning-rate schedules: a schedule maps the number of updates done so
// far (0 before the first) to a factor of each group's base lr, as
// PyTorch's LambdaLR does. Warmup rises linearly from 1/warmupSteps to 1;
// the decay then falls to minFactor by totalSteps (cosine or linear).

/** The factor of the base learning rate for the update that follows `step` updates. */
export type LrSchedule = (step: number) => number;

export interface ScheduleOptions {
  /** 'cosine' (default), 'linear' or 'constant' after the warmup. */
  decay?: 'cosine' | 'linear' | 'constant';
  /** Updates of linear warmup from lr/(warmupSteps) to lr (default 0). */
  warmupSteps?: number;
  /** Total updates; the decay reaches minFactor here. Needed unless decay is 'constant'. */
  totalSteps?: number;
  /** Final factor of the base lr (default 0). */
  minFactor?: number;
}

/** Linear warmup, then cosine, linear or no decay. */
export function createSchedule(options: ScheduleOptions = {}): LrSchedule {
  const { decay = 'cosine', warmupSteps = 0, minFactor = 0 } = options;
  if (!Number.isInteger(warmupSteps) || warmupSteps < 0)
    throw new Error(`schedule: warmupSteps must be an integer ≥ 0, got ${warmupSteps}`);
  if (!(minFactor >= 0 && minFactor <= 1)) throw new Error(`schedule: minFactor must lie in [0, 1], got ${minFactor}`);
  const totalSteps = options.totalSteps ?? Number.NaN;
  if (decay !== 'constant' && !(Number.isInteger(totalSteps) && totalSteps > warmupSteps)) {
    throw new Error(`schedule: ${decay} decay needs an integer totalSteps > warmupSteps (${warmupSteps}), got ${options.totalSteps}`);
  }
  return (step: number): number => {
    if (step < warmupSteps) return (step + 1) / warmupSteps;
    if (decay === 'constant') return 1;
    const progress = Math.min(1, (step - warmupSteps) / (totalSteps - warmupSteps));
    const shape = decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
    return minFactor + (1 - minFactor) * shape;
  };
}

/** Linear warmup then cosine decay to minFactor (the usual transformer schedule). */
export function warmupCosine(warmupSteps: number, totalSteps: number, minFactor = 0): LrSchedule {
  return createSchedule({ decay: 'cosine', warmupSteps, totalSteps, minFactor });
}

/** Linear warmup then linear decay to minFactor. */
export function warmupLinear(warmupSteps: number, totalSteps: number, minFactor = 0): LrSchedule {
  return createSchedule({ decay: 'linear', warmupSteps, totalSteps, minFactor });
}

/** The base lr throughout (after an optional warmup). */
export function constantSchedule(warmupSteps = 0): LrSchedule {
  return createSchedule({ decay: 'constant', warmupSteps });
}
