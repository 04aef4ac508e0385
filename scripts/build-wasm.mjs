// Compiles assembly/ into the four wasm variants attune chooses from at load
// time: relaxed-SIMD or plain SIMD128 (feature-detected), and shared memory
// for threads or plain memory where SharedArrayBuffer is unavailable.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import asc from 'assemblyscript/asc';
import { tsImport } from 'tsx/esm/api';

const variants = [
  { name: 'attune-relaxed-mt', relaxed: true, shared: true },
  { name: 'attune-simd-mt', relaxed: false, shared: true },
  { name: 'attune-relaxed', relaxed: true, shared: false },
  { name: 'attune-simd', relaxed: false, shared: false },
];

// assembly/attention-params.ts is generated from the one schema of the kernel
// parameters (src/backend/attention-schema.ts, with the wasm block's extra
// slots from src/backend/wasm/attention-params.ts).
const { renderAssemblyParams } = await tsImport('../src/backend/wasm/attention-params.ts', import.meta.url);
const paramsFile = 'assembly/attention-params.ts';
const paramsText = renderAssemblyParams();
if (!existsSync(paramsFile) || readFileSync(paramsFile, 'utf8') !== paramsText) {
  writeFileSync(paramsFile, paramsText);
  console.log(`build-wasm: wrote ${paramsFile}`);
}

// A build takes minutes (-O3, four variants): skip it when the sources, this
// script and the compiler are what the last build used.
const inputs = [
  ...readdirSync('assembly')
    .sort()
    .map((f) => `assembly/${f}`),
  'scripts/build-wasm.mjs',
  'node_modules/assemblyscript/package.json',
];
const hash = createHash('sha256');
for (const f of inputs) hash.update(f).update(readFileSync(f));
const stamp = hash.digest('hex');
const stampFile = 'wasm/build-stamp';
const built = variants.every((v) => existsSync(`wasm/${v.name}.wasm`));
if (built && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
  console.log('build-wasm: up to date');
  process.exit(0);
}

mkdirSync('wasm', { recursive: true });
for (const v of variants) {
  const features = ['simd', 'threads', ...(v.relaxed ? ['relaxed-simd'] : [])];
  const args = [
    'assembly/index.ts',
    '--outFile',
    `wasm/${v.name}.wasm`,
    '--runtime',
    'stub',
    '--importMemory',
    '--initialMemory',
    '1',
    '--maximumMemory',
    '65536',
    ...(v.shared ? ['--sharedMemory'] : []),
    '--enable',
    features.join(','),
    '--use',
    `RELAXED=${v.relaxed ? 1 : 0}`,
    '-O3',
    '--noAssert',
  ];
  const { error, stderr } = await asc.main(args);
  if (error) {
    console.error(stderr.toString());
    console.error(`build-wasm: ${v.name} failed: ${error.message}`);
    process.exit(1);
  }
}
writeFileSync(stampFile, stamp);
console.log(`build-wasm: built ${variants.map((v) => v.name).join(', ')}`);
