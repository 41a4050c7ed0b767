// The CTR feature layer: batches (bad input names the field and row), field embeddings against a
// CPU reference with tables split into row blocks, shared tables and pooling, and the FM term.
import assert from "node:assert/strict";
import { assertClose, gpuTest } from "../helpers.ts";
import { backward, readAll, sum, tensor, tidy } from "../../internal.ts";
import type { CtrData } from "../../src/data/ctr.ts";
import {
  ctrRows,
  FeatureEmbedding,
  type FeatureSpec,
  featureSpecs,
} from "../../src/nn/features.ts";
import { fmInteraction } from "../../src/nn/ctr.ts";

// 4 rows: categorical a (vocab 7), b (vocab 3); sequence h (shares a, max 3); numeric x.
const DATA: CtrData = {
  numRows: 4,
  labels: Float32Array.from([1, 0, 1, 0]),
  denseNames: ["x"],
  dense: Float32Array.from([0.5, -1, 2, 0]),
  sparseNames: ["a", "b"],
  sparse: Int32Array.from([6, 0, 1, 2, 5, 1, 0, 0]),
  cardinalities: [7, 3],
  sequences: [{
    name: "h",
    indptr: Int32Array.from([0, 2, 2, 6, 7]),
    indices: Int32Array.from([3, 6, 1, 2, 4, 5, 0]),
    cardinality: 7,
    vocabOf: "a",
  }],
};

Deno.test("featureSpecs and ctrRows: order, truncation to the last maxLen ids, bad input", () => {
  const specs = featureSpecs(DATA, { maxLen: 3, pooling: "mean" });
  assert.deepEqual(specs.map((s) => `${s.name}:${s.type}`), [
    "a:categorical",
    "b:categorical",
    "h:sequence",
    "x:numeric",
  ]);
  const b = ctrRows(specs, DATA, [2, 0]);
  assert.deepEqual([...b.categorical], [5, 1, 6, 0]);
  assert.deepEqual([...b.sequences[0].ids], [2, 4, 5, 3, 6, 0]); // row 2 keeps its last 3 ids
  assert.deepEqual([...b.sequences[0].lengths], [3, 2]);
  assert.deepEqual([...b.numeric], [2, 0.5]);
  const bad = (s: FeatureSpec[], d: CtrData, re: RegExp) =>
    assert.throws(() => ctrRows(s, d, [0, 1]), re);
  bad(
    [{ name: "zzz", type: "categorical", vocabSize: 3 }],
    DATA,
    /no field 'zzz' \(fields: a, b\)/,
  );
  bad(
    [{ name: "b", type: "categorical", vocabSize: 2 }],
    DATA,
    /field 'b' of row 1 has id 2, outside its vocabulary \[0, 2\)/,
  );
  const nan = { ...DATA, dense: Float32Array.from([NaN, 0, 0, 0]) };
  bad([{ name: "x", type: "numeric" }], nan, /numeric field 'x' of row 0 is NaN/);
});

gpuTest(
  "FeatureEmbedding: split tables, shared table, mean pooling, numeric term vs CPU; L2",
  async () => {
    const specs = featureSpecs(DATA, { maxLen: 3, pooling: "mean" });
    const d = 3;
    // 2 rows per block: table a (7 rows) becomes 4 blocks, b 2 blocks.
    const emb = new FeatureEmbedding(specs, d, { seed: 5, std: 1, maxTableBytes: 2 * d * 4 });
    assert.deepEqual(emb.namedParameters().map(([n, p]) => `${n}${JSON.stringify(p.shape)}`), [
      "numeric_weight[1,3]",
      "a.weight[2,3]",
      "a.weight_1[2,3]",
      "a.weight_2[2,3]",
      "a.weight_3[1,3]",
      "b.weight[2,3]",
      "b.weight_1[1,3]",
    ]);
    const ps = emb.namedParameters().map(([, p]) => p);
    const host = await readAll(ps);
    const rowOf = (blocks: Float32Array[], id: number) =>
      blocks[Math.floor(id / 2)].subarray((id % 2) * d, (id % 2) * d + d);
    const W = host[0], A = host.slice(1, 5), Bt = host.slice(5, 7);
    const rows = [0, 1, 2, 3];
    const batch = ctrRows(specs, DATA, rows);
    const ref: number[] = [];
    for (const r of rows) {
      ref.push(...rowOf(A, DATA.sparse[2 * r]), ...rowOf(Bt, DATA.sparse[2 * r + 1]));
      const ids = [
        ...DATA.sequences[0].indices.subarray(
          DATA.sequences[0].indptr[r],
          DATA.sequences[0].indptr[r + 1],
        ),
      ].slice(-3);
      const pooled = [0, 0, 0];
      for (const id of ids) rowOf(A, id).forEach((v, k) => (pooled[k] += v / ids.length));
      ref.push(...pooled, ...[...W].map((w) => w * DATA.dense[r]));
    }
    await tidy(async () => {
      const e = emb.forward(batch);
      assert.deepEqual(e.shape, [4, 4, d]);
      assertClose(await e.read(), ref, { atol: 1e-6 });
      // Gradient of Σ E reaches the right blocks: row 6 of a is block 3, row 0.
      backward(sum(e));
      const g = await emb.tables.get("a")!.blocks[3].grad!.read();
      // a=6 in row 0 (once) and in h of row 0 (1/2) → 1.5 per column.
      assertClose(g, [1.5, 1.5, 1.5], { atol: 1e-6 });
      const l2 = await emb.squaredNorm().read();
      assertClose(l2, [host.reduce((s, a) => s + a.reduce((t, v) => t + v * v, 0), 0)], {
        rtol: 1e-5,
      });
    });
    emb.dispose();
  },
);

gpuTest("fmInteraction: ½ Σ_k ((Σ_f e)² − Σ_f e²) = Σ_{f<g} ⟨e_f, e_g⟩", async () => {
  const [B, F, d] = [3, 5, 2];
  const e = Float32Array.from({ length: B * F * d }, (_, i) => Math.sin(i * 1.7));
  const ref: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let f = 0; f < F; f++) {
      for (let g = f + 1; g < F; g++) {
        for (let k = 0; k < d; k++) s += e[(b * F + f) * d + k] * e[(b * F + g) * d + k];
      }
    }
    ref.push(s);
  }
  await tidy(async () => {
    const y = fmInteraction(tensor(e, [B, F, d]));
    assert.deepEqual(y.shape, [B, 1]);
    assertClose(await y.read(), ref, { atol: 1e-5 });
  });
});
