// A small vector abstraction so kernels.c is written once and compiled twice:
// ATTUNE_AVX512 (16 lanes, 32 registers) and ATTUNE_AVX2 (8 lanes, AVX2 + FMA,
// 16 registers). Each translation unit gets its own -m flags; addon.c picks
// one at run time by CPU features.
#ifndef ATTUNE_VEC_H
#define ATTUNE_VEC_H

#include <immintrin.h>
#include <stdint.h>

#if defined(ATTUNE_AVX512)
#define W 16
#define SUFFIX(name) name##_avx512
typedef __m512 vf;
typedef __mmask16 vmask;
static inline vf vzero(void) { return _mm512_setzero_ps(); }
static inline vf vset1(float x) { return _mm512_set1_ps(x); }
static inline vf vload(const float *p) { return _mm512_loadu_ps(p); }
static inline void vstore(float *p, vf x) { _mm512_storeu_ps(p, x); }
static inline vf vfma(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
/* max/min that propagate a NaN in x (the first operand): MAXPS returns its second source when either is NaN. */
static inline vf vmax(vf x, vf y) { return _mm512_max_ps(y, x); }
static inline vf vmin(vf x, vf y) { return _mm512_min_ps(y, x); }
static inline float vsum(vf x) { return _mm512_reduce_add_ps(x); }
static inline float vhmax(vf x) { return _mm512_reduce_max_ps(x); }
/* Σ of the lanes of x, in double. */
static inline double vsum_to_double(vf x) {
  return _mm512_reduce_add_pd(_mm512_add_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(x)), _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)))));
}
/* Σ x[0..n) accumulated in double (LayerNorm's mean of large offset values). */
static inline double vsum_double(const float *x, int n) {
  __m512d a = _mm512_setzero_pd(), b = _mm512_setzero_pd();
  int i = 0;
  for (; i + 16 <= n; i += 16) {
    a = _mm512_add_pd(a, _mm512_cvtps_pd(_mm256_loadu_ps(x + i)));
    b = _mm512_add_pd(b, _mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)));
  }
  double s = _mm512_reduce_add_pd(_mm512_add_pd(a, b));
  for (; i < n; i++) s += x[i];
  return s;
}
/* Lane k of the result = the sum of the lanes of v[k], k < 16 (a transpose-and-add tree). */
static inline vf vsum_lanes(const vf *v) {
  vf w[8], x[4];
  for (int i = 0; i < 8; i++) w[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; i++) {
    __m512d a = _mm512_castps_pd(w[2 * i]), b = _mm512_castps_pd(w[2 * i + 1]);
    x[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  vf z0 = _mm512_add_ps(_mm512_shuffle_f32x4(x[0], x[1], 0x88), _mm512_shuffle_f32x4(x[0], x[1], 0xdd));
  vf z1 = _mm512_add_ps(_mm512_shuffle_f32x4(x[2], x[3], 0x88), _mm512_shuffle_f32x4(x[2], x[3], 0xdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(z0, z1, 0x88), _mm512_shuffle_f32x4(z0, z1, 0xdd));
}
/* −∞ lanes become 0 (a row that has seen no key yet subtracts 0, not −∞); NaN stays. */
static inline vf vneginf_to_zero(vf x) {
  return _mm512_mask_mov_ps(x, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-__builtin_inff()), _CMP_EQ_OQ), _mm512_setzero_ps());
}
static inline vmask vmask_n(int n) { return (vmask)(n >= W ? 0xffff : ((1u << n) - 1)); }
static inline vf vload_n(const float *p, int n) { return _mm512_maskz_loadu_ps(vmask_n(n), p); }
/* x with lanes ≥ n set to 0. */
static inline vf vkeep_n(vf x, int n) { return _mm512_maskz_mov_ps(vmask_n(n), x); }
static inline void vstore_n(float *p, vf x, int n) { _mm512_mask_storeu_ps(p, vmask_n(n), x); }
/* 2^x for x ≤ 128; exactly 0 below −150 (so −∞ gives 0) and NaN for NaN. */
static inline vf vexp2(vf x) {
  x = vmax(x, vset1(-151.0f));
  x = vmin(x, vset1(128.0f));
  vf n = _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf f = vsub(x, n); /* [-0.5, 0.5] */
  vf p = vset1(1.5403530e-4f);
  p = vfma(p, f, vset1(1.3333558e-3f));
  p = vfma(p, f, vset1(9.6181291e-3f));
  p = vfma(p, f, vset1(5.5504109e-2f));
  p = vfma(p, f, vset1(2.4022651e-1f));
  p = vfma(p, f, vset1(6.9314718e-1f));
  p = vfma(p, f, vset1(1.0f));
  return _mm512_scalef_ps(p, n);
}
/* e^x to ~1 ulp (Cody–Waite reduction by ln 2, degree-6 polynomial); 0 below −104, +∞ above 89, NaN for NaN. */
static inline vf vexp(vf x) {
  x = vmax(x, vset1(-104.0f));
  x = vmin(x, vset1(89.0f));
  vf n = _mm512_roundscale_ps(vmul(x, vset1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = vfma(n, vset1(-0.693359375f), x);
  r = vfma(n, vset1(2.12194440e-4f), r);
  vf p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  p = vfma(vmul(p, r), r, vadd(r, vset1(1.0f)));
  return _mm512_scalef_ps(p, n);
}
#elif defined(ATTUNE_AVX2)
#define W 8
#define SUFFIX(name) name##_avx2
typedef __m256 vf;
typedef __m256 vmask;
static inline vf vzero(void) { return _mm256_setzero_ps(); }
static inline vf vset1(float x) { return _mm256_set1_ps(x); }
static inline vf vload(const float *p) { return _mm256_loadu_ps(p); }
static inline void vstore(float *p, vf x) { _mm256_storeu_ps(p, x); }
static inline vf vfma(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
static inline vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
static inline vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
static inline vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
static inline vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
static inline vf vmax(vf x, vf y) { return _mm256_max_ps(y, x); }
static inline vf vmin(vf x, vf y) { return _mm256_min_ps(y, x); }
static inline float vsum(vf x) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
static inline float vhmax(vf x) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
/* Lane k of the result = the sum of the lanes of v[k], k < 8. */
static inline vf vsum_lanes(const vf *v) {
  vf w[4], x[2];
  for (int i = 0; i < 4; i++) w[i] = _mm256_add_ps(_mm256_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm256_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 2; i++) {
    __m256d a = _mm256_castps_pd(w[2 * i]), b = _mm256_castps_pd(w[2 * i + 1]);
    x[i] = _mm256_add_ps(_mm256_castpd_ps(_mm256_unpacklo_pd(a, b)), _mm256_castpd_ps(_mm256_unpackhi_pd(a, b)));
  }
  return _mm256_add_ps(_mm256_permute2f128_ps(x[0], x[1], 0x20), _mm256_permute2f128_ps(x[0], x[1], 0x31));
}
static inline vf vneginf_to_zero(vf x) {
  return _mm256_blendv_ps(x, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(-__builtin_inff()), _CMP_EQ_OQ));
}
static inline __m256i vmask_i(int n) {
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
}
static inline vf vload_n(const float *p, int n) { return _mm256_maskload_ps(p, vmask_i(n)); }
static inline vf vkeep_n(vf x, int n) { return _mm256_and_ps(x, _mm256_castsi256_ps(vmask_i(n))); }
static inline double vsum_to_double(vf x) {
  __m256d c = _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x)), _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1)));
  __m128d d = _mm_add_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));
  return _mm_cvtsd_f64(_mm_add_sd(d, _mm_unpackhi_pd(d, d)));
}
static inline double vsum_double(const float *x, int n) {
  __m256d a = _mm256_setzero_pd(), b = _mm256_setzero_pd();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    a = _mm256_add_pd(a, _mm256_cvtps_pd(_mm_loadu_ps(x + i)));
    b = _mm256_add_pd(b, _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4)));
  }
  __m256d c = _mm256_add_pd(a, b);
  __m128d d = _mm_add_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));
  double s = _mm_cvtsd_f64(_mm_add_sd(d, _mm_unpackhi_pd(d, d)));
  for (; i < n; i++) s += x[i];
  return s;
}
static inline void vstore_n(float *p, vf x, int n) { _mm256_maskstore_ps(p, vmask_i(n), x); }
static inline vf vexp2(vf x) {
  x = vmax(x, vset1(-151.0f));
  x = vmin(x, vset1(128.0f));
  vf n = _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf f = vsub(x, n);
  vf p = vset1(1.5403530e-4f);
  p = vfma(p, f, vset1(1.3333558e-3f));
  p = vfma(p, f, vset1(9.6181291e-3f));
  p = vfma(p, f, vset1(5.5504109e-2f));
  p = vfma(p, f, vset1(2.4022651e-1f));
  p = vfma(p, f, vset1(6.9314718e-1f));
  p = vfma(p, f, vset1(1.0f));
  /* 2^n in two halves so n in [-151, 128] stays a normal exponent each time; −∞ and underflow give 0. */
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i h1 = _mm256_srai_epi32(ni, 1);
  __m256i h2 = _mm256_sub_epi32(ni, h1);
  vf s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h1, _mm256_set1_epi32(127)), 23));
  vf s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h2, _mm256_set1_epi32(127)), 23));
  vf r = vmul(vmul(p, s1), s2);
  /* below -150 the halves may still be normal: force 0, keeping NaN (the compare is false for NaN) */
  vf tiny = _mm256_cmp_ps(x, vset1(-150.0f), _CMP_LT_OQ);
  return _mm256_andnot_ps(tiny, r);
}
static inline vf vexp(vf x) {
  x = vmax(x, vset1(-104.0f));
  x = vmin(x, vset1(89.0f));
  vf n = _mm256_round_ps(vmul(x, vset1(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  vf r = vfma(n, vset1(-0.693359375f), x);
  r = vfma(n, vset1(2.12194440e-4f), r);
  vf p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  p = vfma(vmul(p, r), r, vadd(r, vset1(1.0f)));
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i h1 = _mm256_srai_epi32(ni, 1);
  __m256i h2 = _mm256_sub_epi32(ni, h1);
  vf s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h1, _mm256_set1_epi32(127)), 23));
  vf s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h2, _mm256_set1_epi32(127)), 23));
  vf res = vmul(vmul(p, s1), s2);
  vf tiny = _mm256_cmp_ps(x, vset1(-103.9f), _CMP_LT_OQ);
  return _mm256_andnot_ps(tiny, res);
}
#else
#error "define ATTUNE_AVX512 or ATTUNE_AVX2"
#endif

#endif
