/** Set at compile time by scripts/build-wasm.mjs: 1 in the relaxed-SIMD build. */
declare const RELAXED: i32;
