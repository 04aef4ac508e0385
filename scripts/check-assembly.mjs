// Type-checks and lints assembly/ the way src/ is: tsc with AssemblyScript's
// own typings (assembly/tsconfig.json; asc checks again at build), and biome
// with the project's rules. biome cannot parse AssemblyScript's decorators on
// functions (`@inline export function`), so it lints a copy in which each
// decorator is turned into a comment of the same line (positions stay put
// but for those lines' columns) and reports against the real paths.
// Rules that contradict AssemblyScript idioms are off for assembly/ only:
// x != x is the NaN test, f32 constants are written to f32 precision, `==`
// compares like types (no coercion), and `// @ts-ignore: decorator` is how
// AssemblyScript code keeps tsc quiet about decorators.
//
//   node scripts/check-assembly.mjs
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let failed = false;

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'assembly/tsconfig.json'], {
  encoding: 'utf8',
});
if (tsc.status !== 0) {
  process.stdout.write(tsc.stdout + tsc.stderr);
  console.error('check-assembly: tsc found type errors in assembly/');
  failed = true;
}

const root = JSON.parse(readFileSync('biome.json', 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'attune-assembly-lint-'));
try {
  cpSync('assembly', join(dir, 'assembly'), { recursive: true });
  for (const file of readdirSync(join(dir, 'assembly'))) {
    const path = join(dir, 'assembly', file);
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^(\s*)@(inline|unmanaged|final|global|lazy)\b/gm, '$1/*@$2*/'));
  }
  const rules = structuredClone(root.linter.rules);
  rules.suspicious = {
    ...rules.suspicious,
    noSelfCompare: 'off',
    noDoubleEquals: 'off',
    noTsIgnore: 'off',
    noApproximativeNumericConstant: 'off',
  };
  rules.correctness = { ...rules.correctness, noPrecisionLoss: 'off' };
  const config = { linter: { enabled: true, rules }, formatter: { enabled: false }, assist: { enabled: false } };
  writeFileSync(join(dir, 'biome.json'), JSON.stringify(config));
  const biome = join(process.cwd(), 'node_modules/.bin/biome');
  try {
    execFileSync(biome, ['lint', '--error-on-warnings', '--max-diagnostics=200', 'assembly'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    process.stdout.write(`${e.stdout ?? ''}${e.stderr ?? ''}`.replaceAll(dir, '.'));
    console.error('check-assembly: biome found problems in assembly/');
    failed = true;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
console.log('check-assembly: assembly/ type-checks and lints clean');
