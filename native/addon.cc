// The N-API addon: entry points that read a Float64Array of arguments (the
// slots in args.h) and a Uint8Array over the tensor heap (the shared
// WebAssembly.Memory). The heap's address is taken afresh on every call,
// since the memory can grow and move. Kernels come in an AVX-512 and an
// AVX2 + FMA build; the CPU's features choose one when the addon loads.
#define NAPI_VERSION 8
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "attention-slots.h"
#include "kernels.h"
#include "pool.h"

static_assert(SLOT_MASK_NONE == MASK_NONE && SLOT_MASK_BOOL == MASK_BOOL && SLOT_MASK_ADDITIVE == MASK_ADDITIVE,
              "the schema's mask kinds are the kernels'");

typedef struct {
  const char *name;
  int (*gemm)(const GemmParams *);
  int (*attentionForward)(const AttnParams *);
  int (*attentionBackward)(const AttnParams *);
  int (*attentionDecode)(const AttnParams *);
  int (*rows)(const RowParams *);
} Isa;

static const Isa isa_avx512 = {"avx512", gemm_avx512, attention_forward_avx512, attention_backward_avx512, attention_decode_avx512,
                                  row_kernel_avx512};
static const Isa isa_avx2 = {"avx2", gemm_avx2, attention_forward_avx2, attention_backward_avx2, attention_decode_avx2,
                                row_kernel_avx2};
static const Isa *isa = NULL;

/* One pool and one set of scratch buffers per process: calls from several JS threads (worker_threads) take turns. */
static pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;
struct KernelLock {
  KernelLock() { pthread_mutex_lock(&kernel_lock); }
  ~KernelLock() { pthread_mutex_unlock(&kernel_lock); }
};

#define CHECK(call)                                                 \
  do {                                                              \
    if ((call) != napi_ok) {                                        \
      napi_throw_error(env, NULL, "attune native: " #call " failed"); \
      return NULL;                                                  \
    }                                                               \
  } while (0)

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/** The heap (arg 0) and the argument slots (arg 1) of a kernel call. */
typedef struct {
  uint8_t *heap;
  size_t heapBytes;
  const double *args;
  size_t count;
} Call;

static int read_heap(napi_env env, napi_value value, Call *call, const char *kernel) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    char message[200];
    snprintf(message, sizeof message, "attune native %s: argument 0 must be a Uint8Array over the heap", kernel);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  call->heap = (uint8_t *)data;
  call->heapBytes = length;
  return 1;
}

/** (heap: Uint8Array, args: Float64Array of `expected` slots). */
static int read_call(napi_env env, napi_callback_info info, Call *call, size_t expected, const char *kernel) {
  size_t argc = 2;
  napi_value argv[2];
  char message[200];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    snprintf(message, sizeof message, "attune native %s: expected (heap: Uint8Array, args: Float64Array), got %zu arguments", kernel, argc);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  if (!read_heap(env, argv[0], call, kernel)) return 0;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array ||
      length < expected) {
    snprintf(message, sizeof message, "attune native %s: argument 1 must be a Float64Array of %zu slots", kernel, expected);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  call->args = (const double *)data;
  call->count = length;
  return 1;
}

/** (heap: Uint8Array, block: Int32Array of A_SLOT_COUNT slots): the schema's attention block; slots as doubles in call->args. */
static int read_block(napi_env env, napi_callback_info info, Call *call, double *slots, const char *kernel) {
  size_t argc = 2;
  napi_value argv[2];
  char message[200];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2) {
    snprintf(message, sizeof message, "attune native %s: expected (heap: Uint8Array, block: Int32Array), got %zu arguments", kernel, argc);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  if (!read_heap(env, argv[0], call, kernel)) return 0;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int32_array ||
      length < A_SLOT_COUNT) {
    snprintf(message, sizeof message, "attune native %s: argument 1 must be an Int32Array of %d slots (the attention block)", kernel,
             (int)A_SLOT_COUNT);
    napi_throw_type_error(env, NULL, message);
    return 0;
  }
  const int32_t *block = (const int32_t *)data;
  for (int i = 0; i < A_SLOT_COUNT; i++) {
    switch (ATTENTION_SLOT_TYPES[i]) {
      case SLOT_OFFSET:
      case SLOT_U32: slots[i] = (double)(uint32_t)block[i]; break;
      case SLOT_F32: {
        float f;
        memcpy(&f, &block[i], sizeof f);
        slots[i] = f;
        break;
      }
      default: slots[i] = block[i]; break;
    }
  }
  call->args = slots;
  call->count = A_SLOT_COUNT;
  return 1;
}

/** A float32 tensor at byte offset slot `s` with `elements` elements, inside the heap; NULL (and a thrown error) if not. */
static float *tensor_at(napi_env env, const Call *call, int slot, double elements, const char *kernel, const char *what) {
  double offset = call->args[slot];
  if (elements <= 0) return (float *)(call->heap + (size_t)(offset > 0 ? offset : 0));
  if (!(offset >= 0) || offset != (double)(int64_t)offset || ((int64_t)offset & 3) != 0 ||
      offset + 4 * elements > (double)call->heapBytes) {
    char message[240];
    snprintf(message, sizeof message, "attune native %s: %s at byte %.0f with %.0f floats lies outside the %zu-byte heap", kernel, what, offset,
             elements, call->heapBytes);
    napi_throw_range_error(env, NULL, message);
    return NULL;
  }
  return (float *)(call->heap + (size_t)offset);
}

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  Call call;
  if (!read_call(env, info, &call, GEMM_ARG_COUNT, "gemm")) return NULL;
  const double *a = call.args;
  GemmParams p;
  p.batch = (int)a[GEMM_batch];
  p.M = (int)a[GEMM_M];
  p.N = (int)a[GEMM_N];
  p.K = (int)a[GEMM_K];
  p.batchStrideA = (int64_t)a[GEMM_batchStrideA];
  p.batchStrideB = (int64_t)a[GEMM_batchStrideB];
  p.batchStrideC = (int64_t)p.M * p.N;
  p.transA = a[GEMM_transA] != 0;
  p.transB = a[GEMM_transB] != 0;
  p.accumulate = a[GEMM_accumulate] != 0;
  p.mc = (int)a[GEMM_mc];
  p.kc = (int)a[GEMM_kc];
  p.nc = (int)a[GEMM_nc];
  p.threads = (int)a[GEMM_threads];
  double last = (double)p.batch - 1;
  if (!(p.a = tensor_at(env, &call, GEMM_a, last * p.batchStrideA + (double)p.M * p.K, "gemm", "A"))) return NULL;
  if (!(p.b = tensor_at(env, &call, GEMM_b, last * p.batchStrideB + (double)p.K * p.N, "gemm", "B"))) return NULL;
  if (!(p.c = tensor_at(env, &call, GEMM_c, (double)p.batch * p.M * p.N, "gemm", "C"))) return NULL;
  KernelLock held;
  if (isa->gemm(&p) != 0) return fail(env, "attune native gemm: out of memory for packing buffers");
  return NULL;
}

static napi_value js_rows(napi_env env, napi_callback_info info) {
  Call call;
  if (!read_call(env, info, &call, ROW_ARG_COUNT, "rows")) return NULL;
  const double *a = call.args;
  RowParams p;
  memset(&p, 0, sizeof p);
  p.op = (int)a[ROW_op];
  p.rows = (int)a[ROW_rows];
  p.cols = (int)a[ROW_cols];
  p.flag = a[ROW_flag] != 0;
  p.eps = (float)a[ROW_eps];
  p.threads = (int)a[ROW_threads];
  if (p.op < ROW_SOFTMAX || p.op > ROW_NORM_GRAD) return fail(env, "attune native rows: unknown op");
  const double matrix = (double)p.rows * p.cols, row = p.cols, column = p.rows;
#define ROW_TENSOR(field, slot, elements, type, required)                                    \
  if (a[slot] == 0 && (required)) return fail(env, "attune native rows: " #field " is required"); \
  if (a[slot] != 0) {                                                                         \
    if (!(p.field = (type)tensor_at(env, &call, slot, elements, "rows", #field))) return NULL; \
  }
  const int sm = p.op == ROW_SOFTMAX, smg = p.op == ROW_SOFTMAX_GRAD, nf = p.op == ROW_NORM, ng = p.op == ROW_NORM_GRAD;
  ROW_TENSOR(x, ROW_x, matrix, const float *, sm || nf || ng)
  ROW_TENSOR(y, ROW_y, matrix, float *, sm || smg || nf)
  ROW_TENSOR(dy, ROW_dy, matrix, const float *, smg || ng)
  ROW_TENSOR(dx, ROW_dx, matrix, float *, smg || ng)
  ROW_TENSOR(gamma, ROW_gamma, row, const float *, nf || ng)
  ROW_TENSOR(beta, ROW_beta, row, const float *, 0)
  ROW_TENSOR(mean, ROW_mean, column, float *, nf || ng)
  ROW_TENSOR(rstd, ROW_rstd, column, float *, nf || ng)
  ROW_TENSOR(dgamma, ROW_dgamma, row, float *, ng)
  ROW_TENSOR(dbeta, ROW_dbeta, row, float *, 0)
#undef ROW_TENSOR
  KernelLock held;
  if (isa->rows(&p) != 0) return fail(env, "attune native rows: out of memory for scratch");
  return NULL;
}

/** Reads the attention slots; tensors that are absent (offset 0) stay NULL. */
static int read_attention(napi_env env, const Call *call, AttnParams *p, const char *kernel) {
  const double *a = call->args;
  memset(p, 0, sizeof *p);
  p->B = (int)a[A_BATCH];
  p->H = (int)a[A_NUM_HEADS];
  p->Hk = (int)a[A_NUM_KV_HEADS];
  p->Nq = (int)a[A_QUERY_LENGTH];
  p->Nk = (int)a[A_KEY_LENGTH];
  p->keyCapacity = (int)a[A_KEY_CAPACITY];
  p->D = (int)a[A_HEAD_DIM];
  p->scale = (float)a[A_SCALE];
  p->softcap = (float)a[A_SOFTCAP];
  p->dropoutP = (float)a[A_DROPOUT_P];
  p->dropoutKeepScale = a[A_DROPOUT_P] < 1 ? (float)(1.0 / (1.0 - a[A_DROPOUT_P])) : 0.0f;
  p->dropoutSeed = (uint32_t)a[A_DROPOUT_SEED];
  p->causal = a[A_CAUSAL] != 0;
  p->windowLeft = (int)a[A_WINDOW_LEFT];
  p->windowRight = (int)a[A_WINDOW_RIGHT];
  p->blockRows = (int)a[A_BLOCK_ROWS];
  p->blockCols = (int)a[A_BLOCK_COLS];
  p->decodeChunk = (int)a[A_DECODE_CHUNK];
  p->threads = (int)a[A_THREADS];
  p->maskKind = (int)a[A_MASK_KIND];
  for (int i = 0; i < 4; i++) p->maskStride[i] = (int64_t)a[A_MASK_STRIDE_BATCH + i];
  char message[200];
  if (p->Hk <= 0 || p->H % p->Hk != 0 || p->D <= 0 || p->keyCapacity < p->Nk) {
    snprintf(message, sizeof message, "attune native %s: bad shape H=%d Hk=%d D=%d Nk=%d capacity=%d", kernel, p->H, p->Hk, p->D, p->Nk,
             p->keyCapacity);
    napi_throw_range_error(env, NULL, message);
    return 0;
  }
  double qElems = (double)p->B * p->H * p->Nq * p->D, kElems = (double)p->B * p->Hk * p->keyCapacity * p->D;
#define TENSOR(field, slot, elements, type)                                                  \
  if (a[slot] != 0) {                                                                        \
    if (!(p->field = (type)tensor_at(env, call, slot, elements, kernel, #field))) return 0; \
  }
  TENSOR(q, A_QUERY, qElems, const float *)
  TENSOR(k, A_KEY, kElems, const float *)
  TENSOR(v, A_VALUE, kElems, const float *)
  TENSOR(o, A_OUTPUT, qElems, float *)
  TENSOR(lse, A_LOG_SUM_EXP, (double)p->B * p->H * p->Nq, float *)
  TENSOR(dO, A_GRAD_OUTPUT, qElems, const float *)
  TENSOR(dQ, A_GRAD_QUERY, qElems, float *)
  TENSOR(dK, A_GRAD_KEY, kElems, float *)
  TENSOR(dV, A_GRAD_VALUE, kElems, float *)
  TENSOR(alibi, A_ALIBI_SLOPES, (double)p->H, const float *)
#undef TENSOR
  if (p->maskKind != MASK_NONE) {
    const int64_t *s = p->maskStride;
    double last = (double)(p->B - 1) * s[0] + (double)(p->H - 1) * s[1] + (double)(p->Nq - 1) * s[2] + (double)(p->Nk - 1) * s[3] + 1;
    /* a bool mask is one byte per element: check it as last/4 floats, rounded up */
    double elements = p->maskKind == MASK_BOOL ? floor((last + 3) / 4) : last;
    if (!(p->mask = tensor_at(env, call, A_MASK, elements, kernel, "mask"))) return 0;
  }
  return 1;
}

#define ATTENTION_ENTRY(js_name, field, kernel, required)                                        \
  static napi_value js_name(napi_env env, napi_callback_info info) {                             \
    Call call;                                                                                   \
    double slots[A_SLOT_COUNT];                                                                  \
    if (!read_block(env, info, &call, slots, kernel)) return NULL;                               \
    AttnParams p;                                                                                \
    if (!read_attention(env, &call, &p, kernel)) return NULL;                                    \
    if (!(required)) return fail(env, "attune native " kernel ": a required tensor is missing"); \
    KernelLock held;                                                                             \
    if (isa->field(&p) != 0) return fail(env, "attune native " kernel ": out of memory for scratch"); \
    return NULL;                                                                                 \
  }

ATTENTION_ENTRY(js_attention_forward, attentionForward, "attentionForward", p.q && p.k && p.v && p.o)
ATTENTION_ENTRY(js_attention_backward, attentionBackward, "attentionBackward",
                p.q && p.k && p.v && p.o && p.lse && p.dO && p.dQ && p.dK && p.dV)
ATTENTION_ENTRY(js_attention_decode, attentionDecode, "attentionDecode", p.q && p.k && p.v && p.o)

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return fail(env, "attune native setThreads: expected a positive integer");
  napi_value result;
  int size;
  {
    KernelLock held;
    size = pool_resize(n);
  }
  CHECK(napi_create_int32(env, size, &result));
  return result;
}

/** useIsa('avx512' | 'avx2'): switches the kernel build (tests run both); returns the one in use. */
static napi_value js_use_isa(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char name[16] = "";
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) napi_get_value_string_utf8(env, argv[0], name, sizeof name, NULL);
  if (strcmp(name, "avx512") == 0 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    isa = &isa_avx512;
  else if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isa = &isa_avx2;
  else
    return fail(env, "attune native useIsa: expected 'avx512' or 'avx2', one this CPU supports");
  napi_value result;
  CHECK(napi_create_string_utf8(env, isa->name, NAPI_AUTO_LENGTH, &result));
  return result;
}

static napi_value string_array(napi_env env, const char *const *names, int count) {
  napi_value array, s;
  if (napi_create_array_with_length(env, (size_t)count, &array) != napi_ok) return NULL;
  for (int i = 0; i < count; i++) {
    napi_create_string_utf8(env, names[i], NAPI_AUTO_LENGTH, &s);
    napi_set_element(env, array, (uint32_t)i, s);
  }
  return array;
}

#define SLOT_NAME(name) #name,
static const char *const gemmArgNames[] = {GEMM_ARGS(SLOT_NAME)};
static const char *const rowArgNames[] = {ROW_ARGS(SLOT_NAME)};
#undef SLOT_NAME

static napi_value js_isa(napi_env env, napi_callback_info) {
  napi_value result;
  CHECK(napi_create_string_utf8(env, isa->name, NAPI_AUTO_LENGTH, &result));
  return result;
}

static void set_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

static napi_value init(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    isa = &isa_avx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    isa = &isa_avx2;
  const char *forced = getenv("ATTUNE_NATIVE_ISA");
  if (forced && strcmp(forced, "avx2") == 0 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = &isa_avx2;
  if (!isa) {
    napi_throw_error(env, NULL, "attune native: this CPU has neither AVX-512 (F, DQ, BW, VL) nor AVX2 + FMA");
    return NULL;
  }
  napi_value layouts;
  napi_create_object(env, &layouts);
  napi_set_named_property(env, layouts, "gemm", string_array(env, gemmArgNames, GEMM_ARG_COUNT));
  napi_set_named_property(env, layouts, "rows", string_array(env, rowArgNames, ROW_ARG_COUNT));
  napi_set_named_property(env, layouts, "attention", string_array(env, ATTENTION_SLOT_NAMES, A_SLOT_COUNT));
  napi_set_named_property(env, exports, "argLayouts", layouts);
  set_fn(env, exports, "gemm", js_gemm);
  set_fn(env, exports, "attentionForward", js_attention_forward);
  set_fn(env, exports, "attentionBackward", js_attention_backward);
  set_fn(env, exports, "attentionDecode", js_attention_decode);
  set_fn(env, exports, "rows", js_rows);
  set_fn(env, exports, "setThreads", js_set_threads);
  set_fn(env, exports, "useIsa", js_use_isa);
  set_fn(env, exports, "isa", js_isa);
  return exports;
}

NAPI_MODULE(attune_native, init)
