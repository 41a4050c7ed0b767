// RAR, whole model: one training step (logits, BCE + recall-item auxiliary loss + embedding
// L2, every parameter's gradient) on the DIN and the DCN-v2 base with both cross-stage sets
// (look-alike users, recall items from given recall lists; exact inner-product selection)
// against the float64 PyTorch re-implementation in fixtures/make_rar_step.py.
import { assertClose, gpuTest } from "../../helpers.ts";
import assert from "node:assert/strict";
import { backward, readAll, tensor, tidy } from "../../../internal.ts";
import type { CtrData } from "../../../src/data/ctr.ts";
import { featureSpecs } from "../../../src/nn/features.ts";
import { ctrTensors } from "../../../src/train/ctr.ts";
import { bceWithLogits } from "../../../src/ops/losses/ranking.ts";
import { add } from "../../../src/ops/core/elementwise.ts";
import { Rar } from "../../../src/models/rar/model.ts";

type Arr = { shape: number[]; data: number[] };
type Side = {
  params: Record<string, Arr>;
  logits: number[];
  loss: number;
  bce: number;
  aux: number;
  grads: Record<string, number[]>;
};
const FX = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/rar_step.json", import.meta.url)),
) as {
  U: number;
  V: number;
  L: number;
  d: number;
  M: number;
  N: number;
  kUsers: number;
  kItems: number;
  embeddingRegularizer: number;
  auxWeight: number;
  dnnHidden: number[];
  attentionHidden: number[];
  numCrossLayers: number;
  users: number[];
  items: number[];
  labels: number[];
  history: number[][];
  lists: number[][];
  din: Side;
  dcnv2: Side;
};

function table(): CtrData {
  const n = FX.users.length;
  const indptr = [0];
  for (const h of FX.history) indptr.push(indptr[indptr.length - 1] + h.length);
  return {
    numRows: n,
    labels: Float32Array.from(FX.labels),
    denseNames: [],
    dense: new Float32Array(0),
    sparseNames: ["user_id", "item_id"],
    sparse: Int32Array.from(FX.users.flatMap((u, r) => [u, FX.items[r]])),
    cardinalities: [FX.U, FX.V],
    sequences: [{
      name: "history",
      indptr: Int32Array.from(indptr),
      indices: Int32Array.from(FX.history.flat()),
      cardinality: FX.V,
      vocabOf: "item_id",
    }],
  };
}

for (const base of ["din", "dcnv2"] as const) {
  gpuTest(`RAR (${base}, both): one training step matches PyTorch`, async () => {
    const want = FX[base];
    const t = table();
    const m = new Rar(featureSpecs(t, { maxLen: FX.L }), t, {
      base,
      variant: "both",
      select: "dot",
      embeddingDim: FX.d,
      dnnHidden: FX.dnnHidden,
      attentionHidden: FX.attentionHidden,
      numCrossLayers: FX.numCrossLayers,
      kUsers: FX.kUsers,
      kItems: FX.kItems,
      poolLength: FX.M,
      recallLength: FX.N,
      auxWeight: FX.auxWeight,
      embeddingRegularizer: FX.embeddingRegularizer,
    }, { users: FX.U, length: FX.N, ids: Int32Array.from(FX.lists.flat()) });
    const names = m.namedParameters().map(([n]) => n);
    assert.deepEqual([...names].sort(), Object.keys(want.params).sort(), "parameter names");
    for (const [n, p] of Object.entries(want.params)) {
      const v = tensor(Float32Array.from(p.data), p.shape);
      m.setParameter(n, v);
      v.dispose();
    }
    m.train();
    await tidy(async () => {
      const b = ctrTensors(t, Int32Array.from({ length: t.numRows }, (_, i) => i));
      const logits = m.logits(b);
      const bce = bceWithLogits(logits, b.labels);
      const loss = add(bce, m.penalty()!);
      backward(loss);
      const ps = m.namedParameters();
      const [y, l, c, ...gs] = await readAll([logits, loss, bce, ...ps.map(([, p]) => p.grad!)]);
      assertClose(y, want.logits, { atol: 1e-5, rtol: 1e-4, msg: "logits" });
      assertClose(c, [want.bce], { atol: 1e-6, rtol: 1e-5, msg: "bce" });
      assertClose(l, [want.loss], { atol: 1e-6, rtol: 1e-5, msg: "loss (bce + aux + L2)" });
      ps.forEach(([n], i) =>
        assertClose(gs[i], want.grads[n], { atol: 1e-5, rtol: 2e-3, msg: `∂${n}` })
      );
    });
    m.dispose();
  });
}
