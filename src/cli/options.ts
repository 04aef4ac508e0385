// Option checks shared by the commands: a bad value ends the command with a
// one-line error and exit code 2 (the usual code for a usage error).

import type { Command } from 'commander';

/** Prints `attune <command>: <message>` and exits with code 2. */
export function usageError(command: string, message: string): never {
  console.error(`attune ${command}: ${message}`);
  process.exit(2);
}

/** Makes commander's own errors (unknown option, missing argument) exit with code 2 too. */
export function exitTwoOnUsageErrors(command: Command): Command {
  return command.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));
}

/** Reads an optional numeric option, checking it is an integer/number within bounds. */
export function numberOption(
  command: string,
  flag: string,
  raw: string | undefined,
  { integer = false, min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, exclusiveMin = false } = {},
): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  const kind = integer ? 'an integer' : 'a number';
  const bound = `${exclusiveMin ? '>' : '≥'} ${min}${max < Number.POSITIVE_INFINITY ? ` and ≤ ${max}` : ''}`;
  if (
    raw.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (exclusiveMin ? value <= min : value < min) ||
    value > max
  ) {
    usageError(command, `${flag} must be ${kind} ${bound}, got '${raw}'`);
  }
  return value;
}

/** Reads an optional choice option. */
export function choiceOption<T extends string>(
  command: string,
  flag: string,
  raw: string | undefined,
  choices: readonly T[],
): T | undefined {
  if (raw === undefined) return undefined;
  if (!choices.includes(raw as T)) usageError(command, `${flag} must be one of ${choices.join(', ')}, got '${raw}'`);
  return raw as T;
}
