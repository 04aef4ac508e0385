import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import path from 'node:path';
const require = createRequire(import.meta.url);
const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
console.log(dist);
setWasmPaths(dist + '/');
await tf.setBackend('wasm');
await tf.ready();
console.log(tf.getBackend(), getThreadsCount(), tf.env().getBool('WASM_HAS_SIMD_SUPPORT'), tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT'));
const N = 1024;
const a = tf.randomNormal([N, N]); const b = tf.randomNormal([N, N]); const bT = tf.transpose(b);
function t(name: string, f: () => tf.Tensor) { for (let i = 0; i < 5; i++) { const t0 = performance.now(); const r = f(); r.dataSync(); const dt = performance.now() - t0; r.dispose(); if (i >= 3) console.log(name, dt.toFixed(1), (2*N*N*N/dt/1e6).toFixed(1)); } }
t('ab', () => tf.matMul(a, b));
t('abT', () => tf.matMul(a, bT, false, true));
t('aTb', () => tf.matMul(bT, b, true, false));
const A3 = tf.randomNormal([8, 512, 64]); const B3 = tf.randomNormal([8, 64, 512]); const B3T = tf.transpose(B3, [0,2,1]);
function t3(name: string, f: () => tf.Tensor) { for (let i = 0; i < 4; i++) { const t0 = performance.now(); const r = f(); r.dataSync(); const dt = performance.now() - t0; r.dispose(); if (i >= 2) console.log(name, dt.toFixed(1), (2*8*512*512*64/dt/1e6).toFixed(1)); } }
t3('b3', () => tf.matMul(A3, B3));
t3('b3T', () => tf.matMul(A3, B3T, false, true));
t3('perbatch2d', () => tf.tidy(() => { const as = tf.unstack(A3); const bs = tf.unstack(B3T); return tf.stack(as.map((x, i) => tf.matMul(x, bs[i], false, true))); }));
