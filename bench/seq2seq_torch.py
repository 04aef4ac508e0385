#!/usr/bin/env python3
"""PyTorch (CPU) side of `npm run bench -- train-seq2seq`: training throughput
of the translation model attune trains by default — an encoder-decoder
Transformer, 3+3 layers, width 256, 4 heads, FFN 1024 (gelu), pre-norm with
final norms, sinusoidal positions, embeddings scaled by sqrt(width), one
8,000-token vocabulary shared by source, target and the tied output
projection, dropout 0.1 on the residual branches and inside the FFN (none on
the attention weights, as attune's default) — on a fixed batch of random ids,
with label-smoothed (0.1) cross-entropy, clipping at 1 and AdamW.

Run by bench/train-seq2seq.ts as a child:
  /usr/bin/python3 bench/seq2seq_torch.py THREADS STEPS BATCH SRC_LEN TGT_LEN
with OPENBLAS_NUM_THREADS=THREADS and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
unset (OpenBLAS then picks its own, best, kernels). Prints one JSON line.
"""
import ctypes
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Seq2Seq(nn.Module):
    def __init__(self, vocab=8000, dim=256, heads=4, layers=3, ffn=1024, dropout=0.1):
        super().__init__()
        self.dim = dim
        self.embed = nn.Embedding(vocab, dim)
        nn.init.normal_(self.embed.weight, std=dim ** -0.5)
        self.transformer = nn.Transformer(dim, heads, layers, layers, ffn, dropout, activation="gelu",
                                          batch_first=True, norm_first=True)
        for layer in list(self.transformer.encoder.layers) + list(self.transformer.decoder.layers):
            layer.self_attn.dropout = 0.0  # no dropout on attention weights (attune's default)
            if hasattr(layer, "multihead_attn"):
                layer.multihead_attn.dropout = 0.0
        self.drop = nn.Dropout(dropout)
        position = torch.arange(512).unsqueeze(1)
        div = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
        pe = torch.zeros(512, dim)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)
        self.register_buffer("pe", pe)

    def embed_ids(self, ids):
        return self.drop(self.embed(ids) * math.sqrt(self.dim) + self.pe[: ids.shape[1]])

    def forward(self, src, tgt_in, src_pad):
        nt = tgt_in.shape[1]
        causal = torch.triu(torch.full((nt, nt), float("-inf")), diagonal=1)
        h = self.transformer(self.embed_ids(src), self.embed_ids(tgt_in), tgt_mask=causal,
                             src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad)
        return h @ self.embed.weight.t()


def blas_info():
    """The BLAS library mapped into this process, and OpenBLAS's kernel when it is OpenBLAS."""
    libs = sorted({line.split()[-1] for line in open("/proc/self/maps") if "blas" in line.lower() and ".so" in line})
    core = None
    for lib in libs:
        try:
            f = ctypes.CDLL(lib).openblas_get_corename
            f.restype = ctypes.c_char_p
            core = f().decode()
            break
        except (OSError, AttributeError):
            continue
    return {"libraries": libs, "openblasCore": core}


def main():
    threads, steps, batch, ns, nt = (int(a) for a in sys.argv[1:6])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = Seq2Seq()
    decay = [p for n, p in model.named_parameters() if p.dim() > 1 and "embed" not in n]
    plain = [p for n, p in model.named_parameters() if not (p.dim() > 1 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": plain, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.98))
    src = torch.randint(3, 8000, (batch, ns))
    tgt_in = torch.randint(3, 8000, (batch, nt))
    tgt_out = torch.randint(3, 8000, (batch, nt))
    src_pad = torch.zeros(batch, ns, dtype=torch.bool)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(src, tgt_in, src_pad)
        loss = F.cross_entropy(logits.reshape(-1, 8000), tgt_out.reshape(-1), label_smoothing=0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({
        "system": "pytorch-cpu",
        "version": torch.__version__,
        "threads": threads,
        "tokensPerSecond": batch * nt / median,
        "medianStepSeconds": median,
        "steps": steps,
        "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "parameters": sum(p.numel() for p in model.parameters()),
        "blas": blas_info(),
    }))


if __name__ == "__main__":
    main()
