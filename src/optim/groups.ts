// Parameter groups from a module: weight decay on weights only, none on
// biases, norms and embeddings (the convention of GPT-2/BERT training code).

import type { ParamKind } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { ParamGroup } from './optimizer.js';

/** What parameterGroups needs of a module (any Module has it). */
export interface HasNamedParameters {
  namedParameters(): Array<[string, Tensor]>;
  parameterKinds(): Map<string, ParamKind>;
}

export interface ParameterGroupOptions {
  weightDecay: number;
  /** Kinds that get no decay (default bias, norm and embedding). */
  noDecay?: readonly ParamKind[];
}

/** Two groups, decayed and not (an empty one is left out), each parameter under its dotted name. */
export function parameterGroups(module: HasNamedParameters, options: ParameterGroupOptions): ParamGroup[] {
  const noDecay = new Set<ParamKind>(options.noDecay ?? ['bias', 'norm', 'embedding']);
  const kinds = module.parameterKinds();
  const decayed: [string, Tensor][] = [];
  const plain: [string, Tensor][] = [];
  for (const [name, p] of module.namedParameters()) (noDecay.has(kinds.get(name) ?? 'weight') ? plain : decayed).push([name, p]);
  const group = (list: [string, Tensor][], weightDecay: number): ParamGroup => ({
    params: list.map(([, p]) => p),
    names: list.map(([n]) => n),
    weightDecay,
  });
  return [group(decayed, options.weightDecay), group(plain, 0)].filter((g) => g.params.length > 0);
}
