// Pretraining objectives (src/nn/objectives.ts): CLIP loss with a learnable temperature
// against a float64 CPU reference (value and d/d logit_scale by central difference), masked
// feature modelling (only masked rows replaced and scored, mask-token gradient), semantic IDs
// unique for any codes (fast-check).
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  ClipObjective,
  MaskedFeatureModel,
  readAll,
  Rng,
  semanticIds,
  tensor,
  tidy,
} from "../../internal.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";

/** CLIP loss in float64: mean of the row and column cross-entropies of cos(a, b)·e^s. */
function clipRef(a: Float32Array, b: Float32Array, n: number, d: number, s: number): number {
  const norm = (x: Float32Array, i: number) =>
    Math.hypot(...Array.from(x.subarray(i * d, (i + 1) * d)));
  const logit = (i: number, j: number) => {
    let dot = 0;
    for (let k = 0; k < d; k++) dot += a[i * d + k] * b[j * d + k];
    return dot / (norm(a, i) * norm(b, j)) * Math.exp(Math.min(s, Math.log(100)));
  };
  let rows = 0;
  let cols = 0;
  for (let i = 0; i < n; i++) {
    const r = Array.from({ length: n }, (_, j) => logit(i, j));
    const c = Array.from({ length: n }, (_, j) => logit(j, i));
    const lse = (v: number[]) =>
      Math.max(...v) + Math.log(v.reduce((t, x) => t + Math.exp(x - Math.max(...v)), 0));
    rows += lse(r) - r[i];
    cols += lse(c) - c[i];
  }
  return (rows + cols) / (2 * n);
}

gpuTest("ClipObjective equals the CPU reference, and learns its temperature", async () => {
  const [n, d] = [5, 3];
  const a = randArray(n * d, 1);
  const b = randArray(n * d, 2);
  const clip = new ClipObjective(0.07);
  const s = Math.log(1 / 0.07);
  const loss = tidy(() => {
    const l = clip.forward(tensor(a, [n, d]), tensor(b, [n, d]));
    backward(l);
    return l;
  });
  const [lv, gs] = await readAll([loss, clip.logitScale.grad!]);
  assertClose(lv, [clipRef(a, b, n, d, s)], { atol: 1e-5, rtol: 1e-4 });
  const h = 1e-3;
  const fd = (clipRef(a, b, n, d, s + h) - clipRef(a, b, n, d, s - h)) / (2 * h);
  assertClose(gs, [fd], { atol: 1e-4, rtol: 1e-3, msg: "d loss / d logit_scale" });
  loss.dispose();
  clip.dispose();
  assert.throws(() => new ClipObjective(0), /ClipObjective: temperature 0/);
});

gpuTest("MaskedFeatureModel masks only the picked rows and scores only them", async () => {
  const [n, d] = [7, 4];
  const mfm = new MaskedFeatureModel(d, { rate: 0.3 });
  const rows = mfm.pick(n, new Rng(3));
  assert.equal(rows.length, 3);
  assert.equal(new Set(rows).size, 3);
  const token = tensor(randArray(d, 9), [d]);
  mfm.setParameter("mask_token", token);
  const x = randArray(n * d, 4);
  const pred = randArray(n * d, 5);
  const [masked, loss, gTok] = tidy(() => {
    const xt = tensor(x, [n, d]);
    const m = mfm.mask(xt, rows);
    const p = tensor(pred, [n, d]);
    // loss of (pred + masked) against x: a gradient reaches the token through the masked rows.
    const l = mfm.loss(add(p, m), xt, rows);
    backward(l);
    return [m, l, mfm.maskToken.grad!];
  });
  const [mv, lv, gv] = await readAll([masked, loss, gTok]);
  const tok = await token.read();
  let ref = 0;
  const gRef = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) {
      const isMasked = rows.includes(i);
      assert.equal(mv[i * d + k], isMasked ? tok[k] : x[i * d + k], `row ${i}`);
      if (!isMasked) continue;
      const r = pred[i * d + k] + tok[k] - x[i * d + k];
      ref += r * r;
      gRef[k] += 2 * r / (rows.length * d);
    }
  }
  assertClose(lv, [ref / (rows.length * d)], { rtol: 1e-5 });
  assertClose(gv, Array.from(gRef), { atol: 1e-6, rtol: 1e-4, msg: "mask-token gradient" });
  for (const t of [masked, loss, token]) t.dispose();
  mfm.dispose();
  assert.throws(() => new MaskedFeatureModel(4, { rate: 1 }), /rate 1, expected in \(0, 1\)/);
});

Deno.test("semanticIds: every item's id tuple is unique and keeps its codes", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3 }),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 60 }),
      (levels, raw) => {
        const codes = Int32Array.from(raw.slice(0, raw.length - (raw.length % levels)));
        const ids = semanticIds(codes, levels);
        const n = codes.length / levels;
        const keys = new Set<string>();
        for (let i = 0; i < n; i++) {
          const row = ids.subarray(i * (levels + 1), (i + 1) * (levels + 1));
          assert.deepEqual(
            Array.from(row.subarray(0, levels)),
            Array.from(codes.subarray(i * levels, (i + 1) * levels)),
          );
          keys.add(row.join(","));
        }
        assert.equal(keys.size, n);
      },
    ),
    { numRuns: 200 },
  );
  assert.throws(() => semanticIds(Int32Array.from([1, 2, 3]), 2), /3 codes for 2 levels/);
});
