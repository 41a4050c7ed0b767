// One training step of RAT (all four variants), DCN-v2, DeepFM and DIN against the PyTorch
// re-implementations in fixtures/make_rat.py: logits, loss and every parameter's gradient on
// the same fixed weights and batch.
import { assertClose, gpuTest } from "../../helpers.ts";
import assert from "node:assert/strict";
import {
  add,
  backward,
  bceWithLogits,
  readAll,
  reshape,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import type { CtrBatch, FeatureSpec } from "../../../src/nn/features.ts";
import type { Module } from "../../../src/nn/module.ts";
import { Rat, type RatInput } from "../../../src/models/rat/model.ts";
import { CtrBaseline } from "../../../src/models/ctrbase/model.ts";

interface Case {
  params: Record<string, { shape: number[]; data: number[] }>;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
}
const FX = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/rat_step.json", import.meta.url)),
) as {
  specs: FeatureSpec[];
  d: number;
  B: number;
  K: number;
  heads: number;
  dimHead: number;
  depth: number;
  scaleDim: number;
  hidden: number[];
  lambda: number;
  batch: {
    categorical: number[];
    numeric: number[];
    sequences: { ids: number[]; lengths: number[] }[];
    labelIds: number[];
    lens: number[];
    labels: number[];
  };
  cases: Record<string, Case>;
};
const { B, K } = FX;
const T = 1 + K;
const N = B * T;
const rows: CtrBatch = {
  size: N,
  labels: new Float32Array(N),
  categorical: Int32Array.from(FX.batch.categorical),
  numeric: Float32Array.from(FX.batch.numeric),
  sequences: FX.batch.sequences.map((s) => ({
    ids: Int32Array.from(s.ids),
    lengths: Int32Array.from(s.lengths),
  })),
};
/** Rows b·T of a batch (the targets). */
function targets(x: CtrBatch): CtrBatch {
  const pick = <A extends Int32Array | Float32Array>(a: A, w: number): A => {
    const out = new (a.constructor as { new (n: number): A })(B * w);
    for (let b = 0; b < B; b++) out.set(a.subarray(b * T * w, (b * T + 1) * w), b * w);
    return out;
  };
  return {
    size: B,
    labels: Float32Array.from(FX.batch.labels),
    categorical: pick(x.categorical, 3),
    numeric: pick(x.numeric, 1),
    sequences: x.sequences.map((s, j) => ({
      ids: pick(s.ids, [3, 2][j]),
      lengths: pick(s.lengths, 1),
    })),
  };
}

async function step(
  name: string,
  model: Module,
  logitsOf: () => Tensor<"f32">,
  penalty: () => Tensor<"f32"> | null,
) {
  const c = FX.cases[name];
  const names = model.namedParameters().map(([n]) => n).sort();
  assert.deepEqual(names, Object.keys(c.params).sort(), `${name}: parameter names`);
  for (const [n, p] of Object.entries(c.params)) {
    const t = tensor(Float32Array.from(p.data), p.shape);
    model.setParameter(n, t);
    t.dispose();
  }
  await tidy(async () => {
    const logits = logitsOf();
    const pen = penalty();
    const bce = bceWithLogits(
      reshape(logits, [B]),
      tensor(Float32Array.from(FX.batch.labels), [B]),
    );
    const loss = pen ? add(bce, pen) : bce;
    backward(loss);
    const [lg, ls] = await readAll([logits, loss]);
    assertClose(lg, c.logits, { atol: 2e-5, rtol: 1e-4, msg: `${name} logits` });
    assertClose(ls, [c.loss], { atol: 2e-5, rtol: 1e-4, msg: `${name} loss` });
    const ps = model.namedParameters();
    const gs = await readAll(ps.map(([, p]) => p.grad!));
    ps.forEach(([n], i) => {
      const scale = Math.max(...c.grads[n].map(Math.abs), 1e-3);
      assertClose(gs[i], c.grads[n], {
        atol: 1e-4 * scale + 1e-6,
        rtol: 2e-3,
        msg: `${name} ∂${n}`,
      });
    });
  });
  model.zeroGrad();
  model.dispose();
}

for (const variant of ["rat", "jm", "ce", "pa"] as const) {
  gpuTest(
    `RAT (${variant}): one step's logits, loss and every gradient match PyTorch`,
    async () => {
      const model = new Rat(FX.specs, {
        variant,
        embeddingDim: FX.d,
        numHeads: FX.heads,
        dimHead: FX.dimHead,
        depth: FX.depth,
        scaleDim: FX.scaleDim,
        dnnHidden: FX.hidden,
        embeddingRegularizer: FX.lambda,
        topK: K,
      });
      const inp: RatInput = {
        size: B,
        k: K,
        rows,
        labelIds: Int32Array.from(FX.batch.labelIds),
        lens: Int32Array.from(FX.batch.lens),
        labels: Float32Array.from(FX.batch.labels),
      };
      await step(variant, model, () => model.forward(inp), () => model.penalty());
    },
  );
}

for (const kind of ["dcnv2", "deepfm", "din"] as const) {
  gpuTest(`${kind}: one step's logits, loss and every gradient match PyTorch`, async () => {
    const model = new CtrBaseline(kind, FX.specs, {
      embeddingDim: FX.d,
      dnnHidden: FX.hidden,
      embeddingRegularizer: FX.lambda,
      numCrossLayers: 2,
      historyField: "history",
      targetField: "item",
      attentionHidden: [6],
    });
    const tb = targets(rows);
    await step(kind, model, () => model.forward(tb), () => model.penalty());
  });
}
