// The shapes `attune autotune` warms by default and `npm run bench --
// autotune` measures: short and long sequences, causal, sliding window,
// grouped-query heads, decoding against a long cache, the backward, and
// small batched GEMMs as the models' linear layers and heads produce them.

export const STANDARD_SHAPES: readonly string[] = [
  'attention:B=2,H=4,N=64,D=32',
  'attention:B=1,H=8,N=256,D=64',
  'attention:B=1,H=8,N=1024,D=64',
  'attention:B=1,H=8,N=2048,D=64,causal',
  'attention:B=4,H=8,N=256,D=64,causal',
  'attention:B=1,H=8,N=1024,D=64,window=128',
  'attention:B=1,H=8,Hk=2,N=1024,D=64,causal',
  'attention:B=1,H=16,Hk=4,N=512,D=128,causal',
  'attention:B=1,H=8,Nq=1,Nk=4096,D=64',
  'attention:B=4,H=8,Hk=2,Nq=1,Nk=1024,D=64',
  'attention:B=1,H=8,N=512,D=64,causal,backward',
  'attention:B=2,H=4,N=256,D=64,backward',
  'matmul:b=16,M=64,N=64,K=64',
  'matmul:b=64,M=32,N=32,K=32',
  'matmul:b=8,M=128,N=64,K=128,tB',
  'matmul:b=1,M=128,N=768,K=256',
  'matmul:b=1,M=512,N=512,K=512',
];

/** A few small shapes for smoke runs and tests. */
export const QUICK_SHAPES: readonly string[] = [
  'attention:B=1,H=4,N=128,D=32,causal',
  'attention:B=1,H=4,Hk=2,Nq=1,Nk=1024,D=32',
  'attention:B=1,H=2,N=128,D=32,backward',
  'matmul:b=16,M=32,N=32,K=32',
];
