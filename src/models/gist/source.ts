/**
 * GIST's source stage, CBJT (Content-Behaviour Joint Training; spec gist.md, skeleton step 1).
 * The paper's architecture is not public; this design is ours from the abstract: "aligns
 * content-behaviour distributions and combines them with guided information".
 * ```
 * c_i = tanh(W_c · mean_{w ∈ text(i)} E_w + b_c)       content encoder, any item (both domains)
 * b_i = B[i]                                            behaviour (ID) embedding, source items
 * z_i = c_i + b_i                                       joint embedding (exported L2-normalised)
 * L_beh   = InfoNCE_sym(b_i, b_j)        (i, j) consecutive in a user's source sequence
 * L_align = InfoNCE_sym(c_i, b_i)        content ↔ behaviour alignment, in-batch negatives
 * L_guide = InfoNCE(p_u, c_t),  p_u = mean of z over u's last M source items,
 *           t a target-domain item u clicked (training rows only): the guidance
 * L = L_beh + L_align + λ_g L_guide       (cosine logits / τ; repeated ids are not negatives)
 * ```
 * The guidance is how target-domain signal steers the source space (ours): a user's source
 * profile must retrieve the content of what they click in the target domain, so the space
 * the lifelong search runs in ranks source items by their relevance to target items.
 *
 * The stage trains and exports alone: {@link exportTable} is `[Ns + Nt, d]`, the normalised
 * joint embeddings of the source items, then the normalised content embeddings of the target
 * items (the search queries). {@link updateSource} continues training on new source data and
 * re-exports, without touching the target model.
 * @module
 */

import { Module } from "../../nn/module.ts";
import { Embedding } from "../../nn/embedding.ts";
import { Linear } from "../../nn/linear.ts";
import { Adam } from "../../nn/optim.ts";
import { backward } from "../../autograd/backward.ts";
import { noGrad } from "../../autograd/tape.ts";
import { add, scale } from "../../ops/core/elementwise.ts";
import { slice } from "../../ops/core/shape.ts";
import { gather } from "../../ops/sparse/gather.ts";
import { SparseMatrix } from "../../ops/sparse/sparse.ts";
import { spmm } from "../../ops/sparse/spmm.ts";
import { infoNce } from "../../ops/losses/infonce.ts";
import { Rng } from "../../random.ts";
import { keep, readAll, type Tensor, tensor, tidy } from "../../tensor.ts";
import { type CrossDomainData, type Csr, csrRow } from "./data.ts";

/** The source stage's export: row-major `[rows, dim]` (the runner's feature-table shape). */
export interface SourceExport {
  /** Values. */
  data: Float32Array;
  /** Columns. */
  dim: number;
}

/** Hyper-parameters of {@link SourceModel}. */
export interface SourceConfig {
  /** Joint width d. Default 32. */
  dim?: number;
  /** Word embedding width. Default 32. */
  wordDim?: number;
  /** InfoNCE temperature τ. Default 0.1. */
  temperature?: number;
  /** λ_g of the guidance. Default 0.5 (0 trains without target-domain guidance). */
  guideWeight?: number;
  /** M: source items in a user's profile p_u. Default 20. */
  profileLength?: number;
  /** Initialisation seed. Default 0. */
  seed?: number;
}

/** Defaults of {@link SourceConfig}. */
export const SOURCE_DEFAULTS: Required<SourceConfig> = {
  dim: 32,
  wordDim: 32,
  temperature: 0.1,
  guideWeight: 0.5,
  profileLength: 20,
  seed: 0,
};

/** One CBJT batch (host ids). */
export interface SourceBatch {
  /** Co-engaged source item pairs: first items `[B]`. */
  a: Int32Array;
  /** Their partners `[B]`. */
  b: Int32Array;
  /** Guidance: each user's profile items (CSR over source items), one row per guide pair. */
  profiles: Csr;
  /** Guidance: the target item clicked, one per profile row. */
  targets: Int32Array;
}

function normalInit(n: number, d: number, std: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => std * r.normal());
}

/** CBJT: content encoder + behaviour embeddings, trained jointly (see the module doc). */
export class SourceModel extends Module {
  /** Resolved hyper-parameters. */
  readonly cfg: Required<SourceConfig>;
  /** Word embeddings E `[words, wordDim]`. */
  readonly wordEmbedding: Embedding;
  /** W_c, b_c: wordDim → d. */
  readonly contentProj: Linear;
  /** B `[Ns, d]`. */
  readonly behaviourEmbedding: Embedding;
  readonly #text: SparseMatrix;

  /** Over `Ns` source and `Nt` target items with text `text` (word ids) of `words` words. */
  constructor(
    readonly Ns: number,
    readonly Nt: number,
    words: number,
    text: Csr,
    cfg: SourceConfig = {},
  ) {
    super();
    const c = this.cfg = { ...SOURCE_DEFAULTS, ...cfg };
    if (text.indptr.length !== Ns + Nt + 1) {
      throw new Error(
        `wgrec gist SourceModel: text has ${text.indptr.length - 1} rows; expected one per ` +
          `item (${Ns} source + ${Nt} target)`,
      );
    }
    this.wordEmbedding = this.child(
      "word_embedding",
      new Embedding(words, c.wordDim, normalInit(words, c.wordDim, 0.5, c.seed)),
    );
    this.contentProj = this.child(
      "content_proj",
      new Linear(c.wordDim, c.dim, { seed: c.seed + 1 }),
    );
    this.behaviourEmbedding = this.child(
      "behaviour_embedding",
      new Embedding(Ns, c.dim, normalInit(Ns, c.dim, 0.1, c.seed + 2)),
    );
    const vals = new Float32Array(text.indices.length);
    for (let i = 0; i < Ns + Nt; i++) {
      const [lo, hi] = [text.indptr[i], text.indptr[i + 1]];
      vals.fill(1 / Math.max(1, hi - lo), lo, hi);
    }
    this.#text = SparseMatrix.fromCSR(text.indptr, text.indices, vals, [Ns + Nt, words]);
    this.#text.transpose(); // built now (cached), not inside the first step's scope
  }

  /** c `[Ns + Nt, d]`: the content embedding of every item. */
  content(): Tensor<"f32"> {
    return this.contentProj.forward(spmm(this.#text, this.wordEmbedding.weight), "tanh");
  }

  /** z `[Ns, d]` (given c): the joint embedding of every source item. */
  joint(c: Tensor<"f32">): Tensor<"f32"> {
    return add(slice(c, [0, 0], [this.Ns, this.cfg.dim]), this.behaviourEmbedding.weight);
  }

  /** The CBJT loss of a batch, with its parts. */
  loss(batch: SourceBatch): { loss: Tensor<"f32">; parts: Record<string, Tensor<"f32">> } {
    const { temperature: tau, guideWeight } = this.cfg;
    const B = batch.a.length;
    const ia = tensor(batch.a, [B], "i32");
    const ib = tensor(batch.b, [B], "i32");
    const c = this.content();
    const beh = this.behaviourEmbedding.weight;
    const ba = gather(beh, ia);
    const lBeh = infoNce(ba, gather(beh, ib), { temperature: tau, symmetric: true, ids: ia });
    const lAlign = infoNce(gather(c, ia), ba, { temperature: tau, symmetric: true, ids: ia });
    let loss = add(lBeh, lAlign);
    const parts: Record<string, Tensor<"f32">> = { beh: lBeh, align: lAlign };
    const G = batch.targets.length;
    if (guideWeight > 0 && G > 0) {
      const p = batch.profiles;
      const w = new Float32Array(p.indices.length);
      for (let g = 0; g < G; g++) {
        w.fill(1 / Math.max(1, p.indptr[g + 1] - p.indptr[g]), p.indptr[g], p.indptr[g + 1]);
      }
      const P = SparseMatrix.fromCSR(p.indptr, p.indices, w, [G, this.Ns]);
      const prof = spmm(P, this.joint(c)); // P's tensors belong to the caller's scope
      const tgt = Int32Array.from(batch.targets, (t) => this.Ns + t);
      const lGuide = infoNce(prof, gather(c, tensor(tgt, [G], "i32")), {
        temperature: tau,
        ids: tensor(tgt, [G], "i32"),
      });
      parts.guide = lGuide;
      loss = add(loss, scale(lGuide, guideWeight));
    }
    return { loss, parts };
  }

  /** The export `[Ns + Nt, d]`: normalised z of source items, then normalised c of targets. */
  async exportTable(): Promise<SourceExport> {
    const d = this.cfg.dim;
    const c = noGrad(() => tidy(() => keep(this.content())));
    const [cv, bv] = await readAll([c, this.behaviourEmbedding.weight]);
    c.dispose();
    const out = new Float32Array((this.Ns + this.Nt) * d);
    for (let i = 0; i < this.Ns + this.Nt; i++) {
      let n = 0;
      for (let k = 0; k < d; k++) {
        const v = cv[i * d + k] + (i < this.Ns ? bv[i * d + k] : 0);
        out[i * d + k] = v;
        n += v * v;
      }
      const s = n > 0 ? 1 / Math.sqrt(n) : 0;
      for (let k = 0; k < d; k++) out[i * d + k] *= s;
    }
    return { data: out, dim: d };
  }

  /** Frees parameters and the text matrix. */
  override dispose(): void {
    super.dispose();
    this.#text.dispose();
  }
}

/** Co-engaged pairs: consecutive items of each sequence (from position `from[u]` on, if given). */
export function engagementPairs(seq: Csr, from?: Int32Array): [Int32Array, Int32Array] {
  const a: number[] = [];
  const b: number[] = [];
  const U = seq.indptr.length - 1;
  for (let u = 0; u < U; u++) {
    const s = csrRow(seq, u);
    for (let j = Math.max(1, from?.[u] ?? 1); j < s.length; j++) {
      if (s[j - 1] !== s[j]) (a.push(s[j - 1]), b.push(s[j]));
    }
  }
  return [Int32Array.from(a), Int32Array.from(b)];
}

/** Options of {@link trainSource}. */
export interface SourceTrainOptions {
  /** Passes over the pairs. Default 4. */
  epochs?: number;
  /** Pairs per step. Default 256. */
  batchSize?: number;
  /** Adam learning rate. Default 5e-3. */
  lr?: number;
  /** Seed of the batch order. Default 0. */
  seed?: number;
  /** Cap on steps (0: none). */
  maxSteps?: number;
  /** Prints a line now and then. */
  log?: (line: string) => void;
  /** Only pairs from this position of each user's sequence on (the incremental update). */
  from?: Int32Array;
}

/** Trains CBJT on a cross-domain dataset's source sequences, guided by its target clicks. */
export async function trainSource(
  model: SourceModel,
  data: Pick<CrossDomainData, "sourceSeq" | "target">,
  o: SourceTrainOptions = {},
): Promise<number> {
  const [pa, pb] = engagementPairs(data.sourceSeq, o.from);
  if (pa.length === 0) return NaN;
  const M = model.cfg.profileLength;
  // Guidance pairs: (profile of u, clicked target item), training rows only.
  const tr = data.target.train;
  const nf = tr.sparseNames.length;
  const gUsers: number[] = [];
  const gItems: number[] = [];
  for (let r = 0; r < tr.numRows; r++) {
    const u = tr.sparse[r * nf];
    const len = data.sourceSeq.indptr[u + 1] - data.sourceSeq.indptr[u];
    if (tr.labels[r] === 1 && len > 0) (gUsers.push(u), gItems.push(tr.sparse[r * nf + 1]));
  }
  const rng = new Rng(o.seed ?? 0);
  const bs = o.batchSize ?? 256;
  const opt = new Adam(model.parameters(), { lr: o.lr ?? 5e-3 });
  let last = NaN;
  let step = 0;
  const gOrder = Int32Array.from(gUsers, (_, i) => i);
  let gPos = gOrder.length;
  for (let e = 0; e < (o.epochs ?? 4); e++) {
    const perm = rng.shuffle(Int32Array.from(pa, (_, i) => i)) as Int32Array;
    for (let lo = 0; lo < perm.length; lo += bs) {
      if (o.maxSteps && step >= o.maxSteps) break;
      const idx = perm.subarray(lo, lo + bs);
      const G = Math.min(idx.length, gOrder.length);
      const rows: number[][] = [];
      const targets = new Int32Array(G);
      for (let g = 0; g < G; g++) {
        if (gPos >= gOrder.length) (rng.shuffle(gOrder), gPos = 0);
        const k = gOrder[gPos++];
        rows.push([...csrRow(data.sourceSeq, gUsers[k]).slice(-M)]);
        targets[g] = gItems[k];
      }
      const indptr = new Int32Array(G + 1);
      rows.forEach((r, g) => (indptr[g + 1] = indptr[g] + r.length));
      const batch: SourceBatch = {
        a: Int32Array.from(idx, (i) => pa[i]),
        b: Int32Array.from(idx, (i) => pb[i]),
        profiles: { indptr, indices: Int32Array.from(rows.flat()) },
        targets,
      };
      const loss = tidy(() => {
        const { loss } = model.loss(batch);
        backward(loss);
        opt.step();
        opt.zeroGrad();
        return keep(loss);
      });
      if (step % 16 === 0) last = (await loss.read())[0];
      loss.dispose();
      step++;
    }
    o.log?.(`gist source: epoch ${e}, loss ${last.toFixed(4)}`);
  }
  opt.dispose();
  return last;
}

/**
 * The incremental update: the source stage continues from its current weights on the new
 * engagements `fresh` only (appended to each user's sequence), then re-exports. The target
 * model is untouched; it consumes the new export (and the longer sequences) as they are.
 */
export async function updateSource(
  model: SourceModel,
  data: Pick<CrossDomainData, "sourceSeq" | "target">,
  fresh: Csr,
  o: SourceTrainOptions = {},
): Promise<{ table: SourceExport; sourceSeq: Csr }> {
  const U = data.sourceSeq.indptr.length - 1;
  const rows = Array.from(
    { length: U },
    (_, u) => [...csrRow(data.sourceSeq, u), ...csrRow(fresh, u)],
  );
  const indptr = new Int32Array(U + 1);
  rows.forEach((r, u) => (indptr[u + 1] = indptr[u] + r.length));
  const sourceSeq = { indptr, indices: Int32Array.from(rows.flat()) };
  // Pairs that end in a new engagement: from the last old position on.
  const from = Int32Array.from(
    { length: U },
    (_, u) => data.sourceSeq.indptr[u + 1] - data.sourceSeq.indptr[u],
  );
  await trainSource(model, { sourceSeq, target: data.target }, { epochs: 1, ...o, from });
  return { table: await model.exportTable(), sourceSeq };
}
