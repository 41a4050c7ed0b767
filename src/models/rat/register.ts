/**
 * RAT and its variants in the runner (`deno task train --model rat [--set variant=jm|ce|pa]`).
 * The retrieval runs once per dataset and parameter set: it is cached next to the data
 * (`<data>/.wgrec-cache/rat_<hash>.i32`, keyed by the encoded tables and the retrieval
 * settings) when the data is a folder, else in the run folder.
 * @module
 */

import type { CtrData } from "../../data/ctr.ts";
import { featureSpecs } from "../../nn/features.ts";
import { register } from "../../runner/registry.ts";
import { bool, int, num, nums, str } from "../../runner/settings.ts";
import { Rat, RAT_DEFAULTS } from "./model.ts";
import { type RatRetrieval, retrieveSplits } from "./data.ts";

const d = RAT_DEFAULTS;

/** FNV-1a over the tables' ids and labels and the retrieval settings. */
function key(tables: CtrData[], parts: (string | number)[]): string {
  let h = 0x811c9dc5;
  const mix = (v: number) => (h = Math.imul(h ^ (v | 0), 0x01000193));
  for (const t of tables) {
    mix(t.numRows);
    t.sparse.forEach(mix);
    t.labels.forEach((y) => mix(y * 7 + 1));
  }
  for (const c of parts.join("|")) mix(c.charCodeAt(0));
  return (h >>> 0).toString(16).padStart(8, "0");
}

async function cachedRetrieval(
  tables: [CtrData, CtrData, CtrData],
  k: number,
  folds: number,
  source: string | undefined,
  artifact: (name: string, make: () => Promise<{ data: Float32Array; dim: number }>) => Promise<
    { data: Float32Array; dim: number }
  >,
  log: (s: string) => void,
): Promise<RatRetrieval[]> {
  const sizes = tables.map((t) => t.numRows);
  const split = (all: Int32Array): RatRetrieval[] => {
    let o = 0;
    return sizes.map((n) => {
      const indices = all.slice(o * k, (o + n) * k);
      o += n;
      const lens = new Int32Array(n);
      for (let i = 0; i < n; i++) while (lens[i] < k && indices[i * k + lens[i]] >= 0) lens[i]++;
      return { k, indices, lens };
    });
  };
  const compute = async () => {
    const t0 = performance.now();
    const r = await retrieveSplits(tables[0], [tables[1], tables[2]], { k, folds });
    log(
      `RAT retrieval: ${sizes.join("/")} queries over ${sizes[0]} rows, K = ${k}, ` +
        `${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const all = new Int32Array(sizes.reduce((a, b) => a + b, 0) * k);
    let o = 0;
    r.forEach((x) => (all.set(x.indices, o), (o += x.indices.length)));
    return all;
  };
  if (source) {
    const dir = `${source}/.wgrec-cache`;
    const path = `${dir}/rat_${key(tables, ["v4-idf", k, folds, 2021])}.i32`;
    try {
      const bytes = await Deno.readFile(path);
      log(`RAT retrieval: cached ${path}`);
      return split(new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const all = await compute();
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeFile(path, new Uint8Array(all.buffer));
    return split(all);
  }
  // Row indices < 2^24 are exact in f32.
  const t = await artifact(`rat_retrieval_k${k}_f${folds}`, async () => {
    const all = await compute();
    return { data: Float32Array.from(all), dim: k };
  });
  return split(Int32Array.from(t.data));
}

register({
  name: "rat",
  title: "RAT",
  task: "ctr",
  about: "RAT (Li et al., WWW 2024): retrieval-augmented transformer over top-K similar rows",
  data: "CTR rows with categorical fields",
  settings: {
    variant: str(d.variant, "rat (cascaded), jm (joint), ce (cross-encoder), pa (parallel)", [
      "rat",
      "jm",
      "ce",
      "pa",
    ]),
    embeddingDim: int(d.embeddingDim, "field embedding width d"),
    numHeads: int(d.numHeads, "attention heads"),
    dimHead: int(d.dimHead, "width of each head"),
    depth: int(d.depth, "encoder blocks"),
    scaleDim: int(d.scaleDim, "FFN width factor"),
    embDropout: num(d.embDropout, "dropout on the token embeddings"),
    dnnHidden: nums(d.dnnHidden, "DNN hidden widths"),
    batchNorm: bool(d.batchNorm, "BatchNorm in the DNN"),
    netDropout: num(d.netDropout, "DNN dropout"),
    useWide: bool(d.useWide, "add the LR (wide) term"),
    embeddingRegularizer: num(d.embeddingRegularizer, "λ of (λ/2)‖θ‖² on embedding tables"),
    topK: int(d.topK, "retrieved rows K per sample"),
    folds: int(10, "folds of the training set for its own retrieval"),
    maxLen: int(10, "ids kept per sequence field"),
  },
  training: {
    batchSize: 4096,
    lr: 1e-3,
    epochs: 100,
    lrSchedule: "plateau",
    lrDecay: 0.1,
    lrPatience: 1,
    lrMin: 1e-6,
    patience: 2,
  },
  tiny: { depth: 1, dnnHidden: [8], embeddingDim: 4, dimHead: 4 },
  build: async ({ data, config: c, artifact, log }) => {
    const specs = featureSpecs(data.train, { maxLen: c.maxLen });
    const tables: [CtrData, CtrData, CtrData] = [data.train, data.valid, data.test];
    const source = (data as { source?: string }).source;
    const ret = await cachedRetrieval(tables, c.topK, c.folds, source, artifact, log);
    const model = new Rat(specs, {
      variant: c.variant,
      embeddingDim: c.embeddingDim,
      numHeads: c.numHeads,
      dimHead: c.dimHead,
      depth: c.depth,
      scaleDim: c.scaleDim,
      embDropout: c.embDropout,
      dnnHidden: c.dnnHidden,
      batchNorm: c.batchNorm,
      netDropout: c.netDropout,
      useWide: c.useWide,
      embeddingRegularizer: c.embeddingRegularizer,
      topK: c.topK,
      seed: c.seed,
    });
    return model.useRetrieval(data.train, tables.map((t, i) => [t, ret[i]] as const));
  },
});
