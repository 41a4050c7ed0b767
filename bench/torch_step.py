"""PyTorch CPU side of bench/step_bench.ts (issue 24): the same training steps on the same data.

Usage (step_bench.ts runs it): /usr/bin/python3 bench/torch_step.py DATA_DIR MODELS
DATA_DIR holds what step_bench.ts wrote: meta.json, users.i32/items.i32 (the ML-1M-shaped
interactions), batches.i32 (fixed (user, pos, neg) batches), features.f32 (AlignRec's item
features). MODELS is a comma list of lightgcn, alignrec, transformer, dcnv2. Prints a JSON list of
{model, samplesPerSec, msPerStep, ...} on stdout.

The models are plain re-implementations of the spec equations (../shared/specs/alignrec.md
for AlignRec and the LightGCN it builds on), with sparse products by torch.sparse.mm:
- LightGCN: mean over (H0, ÂH0, …, Â^3 H0), BPR + reg·(‖u0‖+‖p0‖+‖n0‖)/B, Adam.
- AlignRec stage 2: gate, kNN item graph (top-10 cosine, similarity values, sym-normalised by
  row sums), user–item view, Mv = [R̂X; X], F = C + Mv; BPR + L2 + 0.01·(InfoNCE(Mv, C) of
  the positives' rows + of the users' rows, τ 0.2, one direction) + 0.1·L_sim + 0.1·UIA cosine.
- Transformer: 2 × nn.TransformerEncoderLayer(64, 2 heads, FFN 256, dropout 0, post-LN,
  batch_first), MSE to a fixed target.
- DCN-v2 (parallel): one nn.Embedding per categorical field, numeric fields as value · w_f,
  x0 = flatten(E); x_{l+1} = x0 ⊙ (W_l x_l + b_l) + x_l (3 layers) beside an MLP 400-400-400;
  fc([x_L; MLP(x0)]); BCE with logits (ctr_*.i32/f32 hold the batches).
Each step: forward, backward, Adam step, zero_grad. Threads: the machine's core count.
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(os.cpu_count() or 1)
torch.manual_seed(0)


def load(d):
    meta = json.load(open(os.path.join(d, "meta.json")))
    users = np.fromfile(os.path.join(d, "users.i32"), dtype=np.int32)
    items = np.fromfile(os.path.join(d, "items.i32"), dtype=np.int32)
    b = np.fromfile(os.path.join(d, "batches.i32"), dtype=np.int32)
    b = b.reshape(meta["nBatches"], 3, meta["batch"])
    feats = np.fromfile(os.path.join(d, "features.f32"), dtype=np.float32)
    feats = feats.reshape(meta["items"], meta["dmm"])
    return meta, users, items, b, feats


def bipartite(users, items, nu, ni):
    pairs = np.unique(np.stack([users, items], 1), axis=0)
    u, i = pairs[:, 0], pairs[:, 1]
    du = np.bincount(u, minlength=nu).astype(np.float64)
    di = np.bincount(i, minlength=ni).astype(np.float64)
    w = (1.0 / np.sqrt(du[u] * di[i])).astype(np.float32)
    rows = np.concatenate([u, i + nu])
    cols = np.concatenate([i + nu, u])
    adj = torch.sparse_coo_tensor(
        torch.from_numpy(np.stack([rows, cols]).astype(np.int64)),
        torch.from_numpy(np.concatenate([w, w])), (nu + ni, nu + ni)).coalesce()
    ui = torch.sparse_coo_tensor(
        torch.from_numpy(np.stack([u, i]).astype(np.int64)), torch.from_numpy(w),
        (nu, ni)).coalesce()
    return adj, ui


def xavier(n, d):
    b = (6.0 / (n + d)) ** 0.5
    return torch.nn.Parameter((torch.rand(n, d) * 2 - 1) * b)


def propagate(adj, h0, layers):
    acc, h = h0, h0
    for _ in range(layers):
        h = torch.sparse.mm(adj, h)
        acc = acc + h
    return acc / (layers + 1)


class LightGCN(torch.nn.Module):
    def __init__(self, adj, nu, ni, d=64, layers=3, reg=1e-4):
        super().__init__()
        self.adj, self.nu, self.layers, self.reg = adj, nu, layers, reg
        self.user_emb, self.item_emb = xavier(nu, d), xavier(ni, d)

    def loss(self, u, p, n):
        all_ = propagate(self.adj, torch.cat([self.user_emb, self.item_emb]), self.layers)
        ue, pe, ne = all_[u], all_[p + self.nu], all_[n + self.nu]
        bpr = -F.logsigmoid((ue * pe).sum(1) - (ue * ne).sum(1)).mean()
        ego = self.user_emb[u].norm() + self.item_emb[p].norm() + self.item_emb[n].norm()
        return bpr + self.reg * ego / len(u)


def knn_graph(feats, k):
    x = F.normalize(feats, dim=1)
    sim = x @ x.T
    vals, idx = sim.topk(k, dim=1)
    deg = vals.sum(1)
    dinv = torch.where(deg > 0, deg.pow(-0.5), torch.zeros_like(deg))
    w = dinv[:, None] * vals * dinv[idx]
    rows = torch.arange(feats.shape[0])[:, None].expand(-1, k)
    return torch.sparse_coo_tensor(torch.stack([rows.reshape(-1), idx.reshape(-1)]),
                                   w.reshape(-1), (feats.shape[0],) * 2).coalesce()


def info_nce(a, b, tau=0.2):
    a, b = F.normalize(a, dim=1), F.normalize(b, dim=1)
    logits = a @ b.T / tau
    return (torch.logsumexp(logits, 1) - logits.diagonal()).mean()


class AlignRec(torch.nn.Module):
    def __init__(self, adj, ui, feats, nu, ni, d=64):
        super().__init__()
        self.adj, self.ui, self.nu = adj, ui, nu
        self.v_feat = feats
        self.knn = knn_graph(feats, 10)
        self.user_embedding, self.item_id_embedding = xavier(nu, d), xavier(ni, d)
        self.mm_embedding = torch.nn.Parameter(feats.clone())
        self.mm_trs = torch.nn.Linear(feats.shape[1], d)
        self.gate_v = torch.nn.Linear(d, d)

    def loss(self, u, p, n):
        h = self.mm_trs(self.mm_embedding)
        x = self.item_id_embedding * torch.sigmoid(self.gate_v(h))
        c = propagate(self.adj, torch.cat([self.user_embedding, self.item_id_embedding]), 2)
        x = torch.sparse.mm(self.knn, x)
        mv = torch.cat([torch.sparse.mm(self.ui, x), x])
        f = c + mv
        ue, pe, ne = f[u], f[p + self.nu], f[n + self.nu]
        bpr = -F.logsigmoid((ue * pe).sum(1) - (ue * ne).sum(1)).mean()
        reg = 1e-4 * 0.5 * ((ue ** 2).sum() + (pe ** 2).sum() + (ne ** 2).sum()) / len(u)
        cl = info_nce(mv[p + self.nu], c[p + self.nu]) + info_nce(mv[u], c[u])
        mvp = mv[p + self.nu]
        fp = F.normalize(self.v_feat[p], dim=1)
        sim = (mvp @ mvp.T - fp @ fp.T).norm() / len(u)
        cos = 1 - F.cosine_similarity(ue, pe, dim=1).mean()
        return bpr + 0.1 * cos + reg + 0.01 * cl + 0.1 * sim


class Encoder(torch.nn.Module):
    def __init__(self, tf):
        super().__init__()
        self.layers = torch.nn.ModuleList([
            torch.nn.TransformerEncoderLayer(tf["d"], tf["heads"], tf["ff"], dropout=0.0,
                                             batch_first=True) for _ in range(tf["layers"])])
        self.x = torch.randn(tf["B"], tf["L"], tf["d"])
        self.t = torch.randn(tf["B"], tf["L"], tf["d"])

    def loss(self, *_):
        h = self.x
        for layer in self.layers:
            h = layer(h)
        return ((h - self.t) ** 2).mean()


class DCNv2(torch.nn.Module):
    def __init__(self, ctr, d):
        super().__init__()
        nb, B, C, N = ctr["nBatches"], ctr["B"], ctr["cat"], ctr["num"]
        self.cat = torch.from_numpy(
            np.fromfile(os.path.join(d, "ctr_cat.i32"), dtype=np.int32).astype(np.int64)
        ).reshape(nb, B, C)
        self.num = torch.from_numpy(np.fromfile(os.path.join(d, "ctr_num.f32"),
                                                dtype=np.float32)).reshape(nb, B, N)
        self.y = torch.from_numpy(np.fromfile(os.path.join(d, "ctr_labels.f32"),
                                              dtype=np.float32)).reshape(nb, B)
        e = ctr["d"]
        self.tables = torch.nn.ModuleList([torch.nn.Embedding(ctr["vocab"], e) for _ in range(C)])
        for t in self.tables:
            torch.nn.init.normal_(t.weight, std=1e-4)
        self.numeric_weight = torch.nn.Parameter(torch.randn(N, e) * 1e-4)
        D = (C + N) * e
        self.cross = torch.nn.ModuleList([torch.nn.Linear(D, D) for _ in range(ctr["cross"])])
        sizes = [D] + ctr["hidden"]
        self.dnn = torch.nn.ModuleList([torch.nn.Linear(a, b) for a, b in zip(sizes, sizes[1:])])
        self.fc = torch.nn.Linear(D + sizes[-1], 1)
        self.i = 0

    def loss(self, *_):
        k = self.i % self.cat.shape[0]
        self.i += 1
        cat, num, y = self.cat[k], self.num[k], self.y[k]
        B = cat.shape[0]
        e = [t(cat[:, j]) for j, t in enumerate(self.tables)]
        e.append((num[:, :, None] * self.numeric_weight[None]).reshape(B, -1))
        x0 = torch.cat(e, 1)
        x = x0
        for lin in self.cross:
            x = x0 * lin(x) + x
        h = x0
        for lin in self.dnn:
            h = torch.relu(lin(h))
        logit = self.fc(torch.cat([x, h], 1)).squeeze(1)
        return F.binary_cross_entropy_with_logits(logit, y)


def measure(name, model, batches, samples, steps):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    def step(i):
        u, p, n = (torch.from_numpy(a.astype(np.int64)) for a in batches[i % len(batches)])
        loss = model.loss(u, p, n)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss

    for i in range(2):
        step(i)
    load = os.getloadavg()
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(steps):
        loss = step(i)
    ms = (time.perf_counter() - t0) * 1000 / steps
    cpu = (time.process_time() - c0) * 1000 / steps
    return {"model": name, "samplesPerSec": samples * 1000 / ms, "msPerStep": ms, "cpuMsPerStep": cpu,
            "steps": steps, "load": list(load), "finalLoss": float(loss),
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def main():
    d, models = sys.argv[1], sys.argv[2].split(",")
    meta, users, items, batches, feats = load(d)
    nu, ni, steps = meta["users"], meta["items"], meta["steps"]
    adj, ui = bipartite(users, items, nu, ni)
    out = []
    for m in models:
        if m == "lightgcn":
            r = measure(m, LightGCN(adj, nu, ni), batches, meta["batch"], steps)
        elif m == "alignrec":
            r = measure(m, AlignRec(adj, ui, torch.from_numpy(feats), nu, ni), batches,
                        meta["batch"], steps)
        elif m == "transformer":
            r = measure(m, Encoder(meta["tf"]), batches, meta["tf"]["B"], steps)
        elif m == "dcnv2":
            r = measure(m, DCNv2(meta["ctr"], d), batches, meta["ctr"]["B"], steps)
        else:
            raise SystemExit(f"unknown model {m}")
        print(f"torch {m}: {r['samplesPerSec']:.0f} samples/s, {r['msPerStep']:.1f} ms/step",
              file=sys.stderr)
        out.append(r)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
