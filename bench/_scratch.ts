import * as ort from 'onnxruntime-node';
import { matmulGraph, multiHeadAttentionGraph, matmulSoftmaxMatmulGraph } from './onnx-graph.ts';
function rnd(n: number) { const a = new Float32Array(n); for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1; return a; }
const m = matmulGraph([8, 16, 4], [8, 4, 5]);
const s = await ort.InferenceSession.create(m.bytes);
const a = rnd(8*16*4), b = rnd(8*4*5);
const r = await s.run({ a: new ort.Tensor('float32', a, [8,16,4]), b: new ort.Tensor('float32', b, [8,4,5]) });
const c = r.c.data as Float32Array;
let err = 0; for (let z=0;z<8;z++) for (let i=0;i<16;i++) for (let j=0;j<5;j++){ let acc=0; for(let k=0;k<4;k++) acc+=a[z*64+i*4+k]*b[z*20+k*5+j]; err=Math.max(err,Math.abs(acc-c[z*80+i*5+j])); }
console.log('matmul err', err);
// attention
const H=2,D=8,Nq=Number(process.argv[2]),Nk=Number(process.argv[3]);
function refAttn(q: Float32Array,k: Float32Array,v: Float32Array,causal: boolean){ // bnsh
  const o=new Float32Array(H*Nq*D); const sc=1/Math.sqrt(D);
  for(let h=0;h<H;h++) for(let i=0;i<Nq;i++){ const s=new Float64Array(Nk); let mx=-Infinity;
    for(let j=0;j<Nk;j++){ if(causal && j>i+Nk-Nq){s[j]=-Infinity;continue;} let acc=0; for(let d=0;d<D;d++) acc+=q[(h*Nq+i)*D+d]*k[(h*Nk+j)*D+d]; s[j]=acc*sc; mx=Math.max(mx,s[j]); }
    let sum=0; for(let j=0;j<Nk;j++){ s[j]=Math.exp(s[j]-mx); sum+=s[j]; }
    for(let d=0;d<D;d++){ let acc=0; for(let j=0;j<Nk;j++) acc+=s[j]*v[(h*Nk+j)*D+d]; o[(h*Nq+i)*D+d]=acc/sum; } }
  return o; }
function toBsnh(x: Float32Array, N: number){ const y=new Float32Array(x.length); for(let h=0;h<H;h++) for(let n=0;n<N;n++) for(let d=0;d<D;d++) y[(n*H+h)*D+d]=x[(h*N+n)*D+d]; return y; }
function kT(x: Float32Array){ const y=new Float32Array(x.length); for(let h=0;h<H;h++) for(let n=0;n<Nk;n++) for(let d=0;d<D;d++) y[(h*D+d)*Nk+n]=x[(h*Nk+n)*D+d]; return y; }
const q=rnd(H*Nq*D), k=rnd(H*Nk*D), v=rnd(H*Nk*D);
for (const causal of [false,true]) {
  const ref = refAttn(q,k,v,causal); const refB = toBsnh(ref,Nq);
  for (const kvLayout of ['bnsh','bsnh'] as const) for (const causalVia of ['unidirectional','bias'] as const) {
    try {
    const g = multiHeadAttentionGraph({numHeads:H, headDim:D, seqQ:Nq, seqK:Nk, causal, kvLayout, causalVia});
    const s = await ort.InferenceSession.create(g.bytes);
    const kk = kvLayout==='bnsh'? k: toBsnh(k,Nk), vv = kvLayout==='bnsh'? v: toBsnh(v,Nk);
    const r = await s.run({query: new ort.Tensor('float32', toBsnh(q,Nq), g.inputs[0].shape), key: new ort.Tensor('float32', kk, g.inputs[1].shape), value: new ort.Tensor('float32', vv, g.inputs[2].shape)});
    const o = r.output.data as Float32Array; let e=0; for(let i=0;i<o.length;i++) e=Math.max(e,Math.abs(o[i]-refB[i]));
    console.log('mha', causal, kvLayout, causalVia, e);
    } catch (e) { console.log('mha', causal, kvLayout, causalVia, 'ERR', String(e).slice(0,300)); }
  }
  for (const keyInput of ['transposed','transposeNode'] as const) {
    const g = matmulSoftmaxMatmulGraph({numHeads:H, headDim:D, seqQ:Nq, seqK:Nk, causal, keyInput});
    const s = await ort.InferenceSession.create(g.bytes, {graphOptimizationLevel:'all'});
    const r = await s.run({query: new ort.Tensor('float32', q, g.inputs[0].shape), key: new ort.Tensor('float32', keyInput==='transposed'?kT(k):k, g.inputs[1].shape), value: new ort.Tensor('float32', v, g.inputs[2].shape)});
    const o = r.output.data as Float32Array; let e=0; for(let i=0;i<o.length;i++) e=Math.max(e,Math.abs(o[i]-ref[i]));
    console.log('msm', causal, keyInput, e);
  }
}
