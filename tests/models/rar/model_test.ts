// RAR model: cross-stage data from a table, the auxiliary labels kernel against a CPU
// reference, and one training step of each base × variant (finite loss, gradients reach the
// co-interaction, the look-alike pool and the item table).
import { gpuTest } from "../../helpers.ts";
import assert from "node:assert/strict";
import { backward, readAll, tensor, tidy } from "../../../internal.ts";
import type { CtrData } from "../../../src/data/ctr.ts";
import { featureSpecs } from "../../../src/nn/features.ts";
import { ctrTensors } from "../../../src/train/ctr.ts";
import { bceWithLogits } from "../../../src/ops/losses/ranking.ts";
import { add } from "../../../src/ops/core/elementwise.ts";
import { Rar } from "../../../src/models/rar/model.ts";
import { auxLabels, crossStageData } from "../../../src/models/rar/data.ts";

/** A table of n rows: user, item, a history of earlier positives, label by a planted rule. */
function table(n: number, U: number, V: number, seed: number): CtrData {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const sparse = new Int32Array(n * 2);
  const labels = new Float32Array(n);
  const hist: number[][] = Array.from({ length: U }, () => []);
  const indptr = [0];
  const indices: number[] = [];
  for (let r = 0; r < n; r++) {
    const u = 1 + Math.floor(rnd() * (U - 1));
    const i = 1 + Math.floor(rnd() * (V - 1));
    sparse[r * 2] = u;
    sparse[r * 2 + 1] = i;
    labels[r] = (u + i) % 3 === 0 ? 1 : 0;
    indices.push(...hist[u].slice(-3));
    indptr.push(indices.length);
    if (labels[r] === 1) hist[u].push(i);
  }
  return {
    numRows: n,
    labels,
    denseNames: [],
    dense: new Float32Array(0),
    sparseNames: ["user_id", "item_id"],
    sparse,
    cardinalities: [U, V],
    sequences: [{
      name: "history",
      indptr: Int32Array.from(indptr),
      indices: Int32Array.from(indices),
      cardinality: V,
      vocabOf: "item_id",
    }],
  };
}

gpuTest("RAR cross-stage data and auxiliary labels equal a CPU reference", async () => {
  const t = table(97, 7, 13, 5);
  const cs = crossStageData(t, "user_id", "item_id", 3);
  for (let u = 0; u < 7; u++) {
    const pos: number[] = [];
    for (let r = 0; r < t.numRows; r++) {
      if (t.sparse[r * 2] === u && t.labels[r] === 1) pos.push(t.sparse[r * 2 + 1]);
    }
    const last = pos.slice(-3);
    assert.deepEqual([...cs.poolIds.subarray(u * 3, u * 3 + last.length)], last, `pool ${u}`);
    assert.equal(cs.poolLengths[u], last.length);
    assert.deepEqual(
      [...cs.items.subarray(cs.ptr[u], cs.ptr[u + 1])],
      [...new Set(pos)].sort((a, b) => a - b),
    );
  }
  const users = Int32Array.from([0, 3, 6, 1, 2]);
  const idx = Int32Array.from({ length: 5 * 4 }, (_, j) => (j * 5) % 13);
  let got: ArrayLike<number> = [];
  await tidy(async () => {
    [got] = await readAll([
      auxLabels(cs, tensor(users, [5], "i32"), tensor(idx, [5, 4], "i32")),
    ]);
  });
  const want = [...idx].map((it, j) => {
    const u = users[Math.floor(j / 4)];
    return cs.items.subarray(cs.ptr[u], cs.ptr[u + 1]).includes(it) ? 1 : 0;
  });
  assert.deepEqual(Array.from(got), want);
  assert.ok(want.some((v) => v === 1) && want.some((v) => v === 0), "labels of both kinds");
  cs.dispose();
});

for (const base of ["din", "dcnv2"] as const) {
  for (const variant of ["none", "u2u", "i2i", "both"] as const) {
    gpuTest(`RAR (${base}, ${variant}): one step has a finite loss and gradients`, async () => {
      const t = table(61, 7, 13, 11);
      const m = new Rar(featureSpecs(t, { maxLen: 3 }), t, {
        base,
        variant,
        embeddingDim: 4,
        dnnHidden: [8],
        attentionHidden: [8],
        kUsers: 3,
        kItems: 4,
        bits: 8,
        poolLength: 3,
        recallLength: 6,
        select: variant === "u2u" ? "dot" : "simhash",
      });
      m.train();
      await tidy(async () => {
        const b = ctrTensors(t, Int32Array.from({ length: 16 }, (_, i) => i * 3));
        const pen = (logits: ReturnType<typeof m.logits>) => {
          const p = m.penalty();
          const bce = bceWithLogits(logits, b.labels);
          return p ? add(bce, p) : bce;
        };
        const loss = pen(m.logits(b));
        backward(loss);
        const ps = m.namedParameters();
        const [l, ...gs] = await readAll([loss, ...ps.map(([, p]) => p.grad!)]);
        assert.ok(Number.isFinite(l[0]), `loss ${l[0]}`);
        const norm = (name: string) =>
          gs[ps.findIndex(([n]) => n === name)].reduce((s, v) => s + v * v, 0);
        for (const [n] of ps) assert.ok(gs[ps.findIndex(([k]) => k === n)].every(Number.isFinite));
        if (variant !== "none") assert.ok(norm("co_interaction.key.weight") > 0, "∂W_k");
        assert.ok(norm("embedding_layer.item_id.weight") > 0, "∂item table");
      });
      m.dispose();
    });
  }
}
