// Growable, 64-byte-aligned scratch buffers kept between calls (kernels run
// one at a time; each buffer is grown by the calling thread before the pool starts).
#ifndef ATTUNE_SCRATCH_H
#define ATTUNE_SCRATCH_H

#include <stddef.h>
#include <stdlib.h>

typedef struct {
  float *ptr;
  size_t floats;
} Scratch;

static inline float *scratch_get(Scratch *s, size_t floats) {
  if (s->floats < floats) {
    free(s->ptr);
    size_t bytes = ((floats * sizeof(float) + 63) / 64) * 64;
    s->ptr = (float *)aligned_alloc(64, bytes);
    s->floats = s->ptr ? floats : 0;
  }
  return s->ptr;
}

#endif
