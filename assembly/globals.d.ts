/** Set at compile time by scripts/build-wasm.mjs: 1 in the relaxed-SIMD build. */
declare const RELAXED: i32;

/** AssemblyScript's Mathf is NativeMathf, which has exp2; its typings declare Mathf as IMath, which lacks it. */
interface IMath<T> {
  exp2(x: T): T;
}
