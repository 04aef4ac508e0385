// Builds the native kernels (native/*.cc) into native/build/attune.node: an
// N-API addon compiled with this machine's C++ compiler ($ATTUNE_CXX, else
// $CXX, else c++; ATTUNE_CXX hides or swaps it for these kernels alone, while
// dependencies built from source, better-sqlite3, keep $CXX)
// against the Node headers installed beside node (nothing is downloaded).
// The ISA-specific sources are compiled twice, with AVX-512 and with AVX2 +
// FMA flags; the addon picks one by CPU features when it loads. When there is
// no compiler, another CPU architecture, or the build fails, this prints one
// line, records why in native/build/error.txt (`attune info` shows it), and
// exits 0: attune then runs on wasm.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { arch, availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';

// ATTUNE_NATIVE_BUILD_DIR: build elsewhere (tests); the loader reads native/build.
const out = process.env.ATTUNE_NATIVE_BUILD_DIR || 'native/build';
const addon = join(out, 'attune.node');
const errorFile = join(out, 'error.txt');
const stampFile = join(out, 'stamp');
const cxxVariable = process.env.ATTUNE_CXX ? 'ATTUNE_CXX' : 'CXX';
const cxx = process.env.ATTUNE_CXX || process.env.CXX || 'c++';
const nodeInclude = join(dirname(dirname(process.execPath)), 'include', 'node');

/** Compiled once per ISA, each with its own flags. */
const isaSources = ['gemm.cc', 'attention.cc', 'attention-decode.cc', 'attention-backward.cc', 'rows.cc'].filter((f) =>
  existsSync(join('native', f)),
);
/** Compiled once, for any x86-64. */
const commonSources = ['addon.cc', 'pool.cc'];
const isas = [
  { name: 'avx512', flags: ['-DATTUNE_AVX512', '-mavx512f', '-mavx512dq', '-mavx512bw', '-mavx512vl', '-mavx2', '-mfma'] },
  { name: 'avx2', flags: ['-DATTUNE_AVX2', '-mavx2', '-mfma'] },
];
const common = [
  '-std=c++17',
  '-O3',
  '-fPIC',
  '-fvisibility=hidden',
  '-fno-exceptions',
  '-fno-rtti',
  '-pthread',
  '-Wall',
  `-I${nodeInclude}`,
];

function giveUp(reason) {
  mkdirSync(out, { recursive: true });
  rmSync(addon, { force: true });
  rmSync(stampFile, { force: true });
  writeFileSync(errorFile, `${reason}\n`);
  console.log(`build-native: native kernels not built (${reason.split('\n')[0]}); attune will use wasm`);
  process.exit(0);
}

// native/attention-slots.h is generated from the one schema of the attention
// parameters (src/backend/attention-schema.ts, plus native's two slots from
// src/backend/native/attention-block.ts). Without tsx (an install without dev
// dependencies) the committed header is used as it is.
try {
  const { tsImport } = await import('tsx/esm/api');
  const { renderNativeSlots } = await tsImport('../src/backend/native/attention-block.ts', import.meta.url);
  const slotsFile = 'native/attention-slots.h';
  const text = renderNativeSlots();
  if (!existsSync(slotsFile) || readFileSync(slotsFile, 'utf8') !== text) {
    writeFileSync(slotsFile, text);
    console.log(`build-native: wrote ${slotsFile}`);
  }
} catch (e) {
  if (!existsSync('native/attention-slots.h')) giveUp(`cannot generate native/attention-slots.h: ${e.message}`);
}

if (arch() !== 'x64') giveUp(`the native kernels need x86-64, this is ${arch()}`);
if (!existsSync(join(nodeInclude, 'node_api.h'))) giveUp(`no Node headers at ${nodeInclude}`);

const hash = createHash('sha256');
for (const f of readdirSync('native').sort()) {
  if (/\.(cc|h)$/.test(f)) hash.update(f).update(readFileSync(join('native', f)));
}
hash.update(readFileSync('scripts/build-native.mjs')).update(cxx).update(process.version);
const stamp = hash.digest('hex');
if (existsSync(addon) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  console.log('build-native: up to date');
  process.exit(0);
}

/** Runs the compiler; resolves to null on success, else the reason. */
function run(args) {
  return new Promise((resolve) => {
    let stderr = '';
    let child;
    try {
      child = spawn(cxx, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      resolve(`${cxx}: ${e.message}`);
      return;
    }
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (e) => resolve(`no C++ compiler '${cxx}' (set ATTUNE_CXX or CXX): ${e.message}`));
    child.on('close', (code) =>
      resolve(
        code === 0
          ? null
          : `the C++ compiler '${cxx}' (${cxxVariable}) exited with ${code}${stderr.trim() ? `: ${stderr.trim().slice(0, 2000)}` : ''}`,
      ),
    );
  });
}

mkdirSync(out, { recursive: true });
const jobs = [
  ...commonSources.map((src) => ({ src, obj: join(out, src.replace('.cc', '.o')), flags: [] })),
  ...isas.flatMap((isa) => isaSources.map((src) => ({ src, obj: join(out, src.replace('.cc', `.${isa.name}.o`)), flags: isa.flags }))),
];
const started = Date.now();
const parallel = Math.max(1, Math.min(availableParallelism(), 4));
let failure = null;
const queue = [...jobs];
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (queue.length > 0 && !failure) {
      const job = queue.shift();
      const reason = await run([...common, ...job.flags, '-c', join('native', job.src), '-o', job.obj]);
      if (reason) failure ??= reason;
    }
  }),
);
if (failure) giveUp(failure);
const linked = await run(['-shared', '-pthread', '-o', addon, ...jobs.map((j) => j.obj)]);
if (linked) giveUp(linked);
rmSync(errorFile, { force: true });
writeFileSync(stampFile, stamp);
console.log(`build-native: built ${addon} in ${((Date.now() - started) / 1000).toFixed(1)} s (${cxx})`);
