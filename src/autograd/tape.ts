// Reverse-mode autodiff over the graph that ops record on their outputs
// (tensor.gradNode). backward() walks it in reverse topological order,
// summing gradients; leaves that require a gradient receive it in .grad.
// A recorded rule holds its inputs and saved tensors (see tensor.ts), so the
// graph of a live root is whole even when tidy() or dispose() dropped the
// intermediates; a tensor freed some other way fails backward by name.

import { kernelFor } from '../backend/backend.js';
import { keep, tidy } from '../tensor/scope.js';
import { contiguousStrides, formatShape } from '../tensor/shape.js';
import { type GradNode, setBackwardEngine, Tensor, withSavedTensors } from '../tensor/tensor.js';

let recording = true;

/** True when t takes part in a gradient computation. */
export function needsGrad(t: Tensor): boolean {
  return t.requiresGrad || t.gradNode !== null;
}

/** Whether ops currently record their backward (off inside noGrad). */
export function isRecording(): boolean {
  return recording;
}

/** Runs fn without recording gradients (inference, optimiser updates, backward rules). */
export function noGrad<T>(fn: () => T): T {
  const previous = recording;
  recording = false;
  try {
    return fn();
  } finally {
    recording = previous;
  }
}

/**
 * Attaches a backward rule to an op's output when any input needs a gradient.
 * `saved` lists the tensors besides the inputs (and the output itself) that
 * the rule reads: the graph keeps them alive for it.
 */
export function record(
  op: string,
  inputs: readonly Tensor[],
  output: Tensor,
  backward: GradNode['backward'],
  saved: readonly (Tensor | null | undefined)[] = [],
): Tensor {
  if (recording && inputs.some(needsGrad)) {
    Tensor.attachGradNode(output, { op, inputs, saved: saved.filter((t): t is Tensor => t instanceof Tensor), backward });
  }
  return output;
}

/** Runs one rule, naming its op when a tensor it needs is gone. */
function runRule(node: GradNode, g: Tensor): (Tensor | null)[] {
  for (const [kind, list] of [
    ['input', node.inputs],
    ['saved tensor', node.saved],
  ] as const) {
    list.forEach((t, i) => {
      if (t.isDisposed) {
        throw new Error(`backward of ${node.op}: its ${kind} ${i} ${formatShape(t.shape)} ${t.dtype} was freed before backward() ran`);
      }
    });
  }
  try {
    return node.backward(g);
  } catch (e) {
    const message = (e as Error).message;
    if (message.startsWith('backward of ')) throw e;
    throw new Error(`backward of ${node.op}: ${message}`, { cause: e });
  }
}

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length > 0) {
    const [t, expanded] = stack.pop()!;
    if (expanded) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const input of t.gradNode?.inputs ?? []) if (needsGrad(input) && !seen.has(input)) stack.push([input, false]);
  }
  return order.reverse();
}

/** The engine behind tensor.backward(): accumulates into .grad of every leaf that requires one. */
export function backward(root: Tensor, gradOutput?: Tensor): void {
  if (!needsGrad(root)) throw new Error(`backward: tensor ${formatShape(root.shape)} does not require a gradient (no input of it does)`);
  if (!gradOutput && root.size !== 1) {
    throw new Error(`backward: a non-scalar tensor ${formatShape(root.shape)} needs gradOutput of the same shape`);
  }
  if (gradOutput && gradOutput.size !== root.size) {
    throw new Error(`backward: gradOutput ${formatShape(gradOutput.shape)} does not match the tensor ${formatShape(root.shape)}`);
  }
  withSavedTensors(() =>
    tidy(() => {
      const grads = new Map<Tensor, Tensor>();
      grads.set(root, gradOutput ?? onesLike(root));
      noGrad(() => {
        for (const t of topologicalOrder(root)) {
          const g = grads.get(t);
          if (!g) continue;
          if (t.gradNode) {
            const inputGrads = runRule(t.gradNode, g);
            t.gradNode.inputs.forEach((input, i) => {
              const gi = inputGrads[i];
              if (!gi || !needsGrad(input)) return;
              if (gi.size !== input.size) {
                throw new Error(
                  `backward of ${t.gradNode?.op}: gradient ${formatShape(gi.shape)} for input ${i} of shape ${formatShape(input.shape)}`,
                );
              }
              grads.set(input, accumulate(grads.get(input), gi));
            });
          }
          // A new tensor object over g's storage (no copy): g may also be another input's gradient.
          if (t.requiresGrad) t.grad = keep(t.grad ? accumulateInto(t.grad, g) : g.reshapeView(t.shape));
        }
      });
    }),
  );
}

function onesLike(t: Tensor): Tensor {
  const ones = Tensor.empty(t.shape, t.dtype);
  ones.view().fill(1);
  return ones;
}

/** Sums two gradients of one tensor (a fan-out in the graph). */
function accumulate(previous: Tensor | undefined, g: Tensor): Tensor {
  if (!previous) return g;
  const sum = Tensor.empty(g.shape, g.dtype);
  addKernel(previous, g, sum);
  return sum;
}

function accumulateInto(grad: Tensor, g: Tensor): Tensor {
  const next = accumulate(grad, g);
  grad.dispose();
  return next;
}

function addKernel(a: Tensor, b: Tensor, out: Tensor): void {
  const strides = contiguousStrides(out.shape);
  kernelFor('binary', [a, b, out])(a, b, out, { op: 'add', outShape: out.shape, stridesA: strides, stridesB: strides });
}

setBackwardEngine(backward);
