// NopPruner: never prunes.

import type { FrozenTrial, StudyView } from '../frozen-trial.js';
import type { Pruner } from './base.js';

export class NopPruner implements Pruner {
  prune(_study: StudyView, _trial: FrozenTrial): boolean {
    return false;
  }
}
