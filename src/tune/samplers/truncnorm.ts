// The normal distribution truncated to [a, b] in standard units, computed in log space so the far
// tails stay finite: log Φ, log(Φ(b) − Φ(a)), its log density and inverse-CDF sampling.
// erfc: positive series below x = 2 (no cancellation); above, erfcx(x) = e^{x²}·erfc(x) from a
// Chebyshev series on [2, 8] fitted at load time to the Lentz continued fraction (which is exact
// but slow near 2), and the continued fraction itself beyond 8, where it converges in a few steps.

const SQRT2 = Math.SQRT2;
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf(x) for |x| < 2 from e^{-x²} Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), all terms positive. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

/** log(erfc(x)) for x >= 2 via the continued fraction erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function logErfcContinuedFraction(x: number): number {
  // Modified Lentz on f = x + a1/(x + a2/(x + …)), a_k = k/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : 1 / d;
    c = x + a / c;
    if (c === 0) c = tiny;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - 0.5 * Math.log(Math.PI) - Math.log(f);
}

const CHEB_LO = 2;
const CHEB_HI = 8;
const CHEB = chebyshevFit(CHEB_LO, CHEB_HI, 34, (x) => Math.exp(logErfcContinuedFraction(x) + x * x));

function chebyshevFit(lo: number, hi: number, n: number, f: (x: number) => number): Float64Array {
  const fx = Array.from({ length: n }, (_, k) => f(0.5 * (hi - lo) * Math.cos((Math.PI * (k + 0.5)) / n) + 0.5 * (hi + lo)));
  const c = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += fx[k]! * Math.cos((Math.PI * j * (k + 0.5)) / n);
    c[j] = (2 / n) * s;
  }
  return c;
}

/** Clenshaw evaluation of the fitted series. */
function chebyshev(c: Float64Array, lo: number, hi: number, x: number): number {
  const y = (2 * x - lo - hi) / (hi - lo);
  const y2 = 2 * y;
  let d = 0;
  let dd = 0;
  for (let j = c.length - 1; j >= 1; j--) {
    const sv = d;
    d = y2 * d - dd + c[j]!;
    dd = sv;
  }
  return y * d - dd + 0.5 * c[0]!;
}

/** log(erfc(x)) for x >= 2. */
function logErfcLarge(x: number): number {
  if (x < CHEB_HI) return -x * x + Math.log(chebyshev(CHEB, CHEB_LO, CHEB_HI, x));
  return logErfcContinuedFraction(x);
}

export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2) return 1 - erfSeries(x);
  return Math.exp(logErfcLarge(x));
}

export function erf(x: number): number {
  if (x < 0) return -erf(-x);
  if (x < 2) return erfSeries(x);
  return 1 - erfc(x);
}

/** log Φ(z), the standard normal log CDF, accurate far into both tails. */
export function logNdtr(z: number): number {
  if (z > 5) return Math.log1p(-0.5 * erfc(z / SQRT2));
  const x = -z / SQRT2;
  if (x >= 2) return logErfcLarge(x) - Math.LN2;
  return Math.log(0.5 * erfc(x));
}

export function logNormalPdf(z: number): number {
  return -0.5 * z * z - LOG_SQRT_2PI;
}

/** log(exp(a) − exp(b)) for a >= b. */
function logDiffExp(a: number, b: number): number {
  if (b === Number.NEGATIVE_INFINITY) return a;
  return a + Math.log(-Math.expm1(b - a));
}

/** log(Φ(b) − Φ(a)) for a < b, using the symmetric tail when both are positive. */
export function logGaussMass(a: number, b: number): number {
  if (a > 0) return logGaussMass(-b, -a);
  // Now a <= 0: the left side is where log Φ is accurate.
  if (b <= 0) return logDiffExp(logNdtr(b), logNdtr(a));
  // a <= 0 < b: the mass is at least min(Φ(b) − ½, ½ − Φ(a)), no cancellation problem.
  return Math.log1p(-0.5 * erfc(b / SQRT2) - 0.5 * erfc(-a / SQRT2));
}

/** Inverse of log Φ: the z with log Φ(z) = logP (logP <= 0), by Newton steps from an asymptotic start. */
export function ndtriExp(logP: number): number {
  if (logP >= 0) return Number.POSITIVE_INFINITY;
  if (logP === Number.NEGATIVE_INFINITY) return Number.NEGATIVE_INFINITY;
  if (logP > -1e-12) return -ndtriExp(Math.log(-Math.expm1(logP)));
  const p = Math.exp(logP);
  let z: number;
  if (p > 1e-300 && p < 1 - 1e-12) z = acklam(p);
  else {
    const t = -2 * logP;
    z = -Math.sqrt(t - Math.log(t) - Math.log(2 * Math.PI));
  }
  for (let i = 0; i < 50; i++) {
    const lp = logNdtr(z);
    const step = (lp - logP) / Math.exp(logNormalPdf(z) - lp);
    z -= step;
    if (Math.abs(step) < 1e-14 * Math.max(1, Math.abs(z))) break;
  }
  return z;
}

// Acklam's rational approximation to the normal quantile (relative error ~1e-9), refined by Newton above.
const A = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];

function acklam(p: number): number {
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1)
    );
  }
  if (p > 1 - pLow) return -acklam(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
    (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1)
  );
}

/** Inverse CDF of the standard normal truncated to [a, b], at uniform u in [0, 1). */
export function truncnormPpf(u: number, a: number, b: number): number {
  if (a >= b) return a;
  if (a > 0) return -truncnormPpf(1 - u, -b, -a);
  // log(Φ(a) + u·(Φ(b) − Φ(a))), with a <= 0 so log Φ(a) is accurate.
  const logPa = logNdtr(a);
  const logMass = logGaussMass(a, b);
  const logP = u <= 0 ? logPa : logAddExp(logPa, Math.log(u) + logMass);
  const z = ndtriExp(Math.min(logP, 0));
  return Math.min(b, Math.max(a, z));
}

function logAddExp(x: number, y: number): number {
  const m = Math.max(x, y);
  if (m === Number.NEGATIVE_INFINITY) return m;
  return m + Math.log(Math.exp(x - m) + Math.exp(y - m));
}

/** log density of the standard normal truncated to [a, b] at z (−∞ outside). */
export function truncnormLogPdf(z: number, a: number, b: number): number {
  if (z < a || z > b) return Number.NEGATIVE_INFINITY;
  return logNormalPdf(z) - logGaussMass(a, b);
}
