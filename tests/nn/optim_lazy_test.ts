// Lazy (row-sparse) Adam/AdamW: rows with an all-zero gradient keep weights and moments; touched
// rows follow Adam. Against a float64 CPU reference over awkward table shapes, several steps.
import fc from "npm:fast-check@3";
import { Adam, AdamW, keep, tensor } from "../../internal.ts";
import { assert, assertClose, gpuTest, randArray } from "../helpers.ts";
import { Rng } from "../../src/random.ts";

interface Hyper {
  lr: number;
  wd: number;
  decoupled: boolean;
}

/** CPU reference of the documented semantics. */
function lazyAdamRef(
  p0: Float32Array,
  grads: Float32Array[],
  rows: number,
  cols: number,
  h: Hyper,
): Float64Array {
  const [b1, b2, eps] = [0.9, 0.999, 1e-8];
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let r = 0; r < rows; r++) {
      let touched = false;
      for (let c = 0; c < cols; c++) touched ||= g[r * cols + c] !== 0;
      if (!touched) continue;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        let w = p[i];
        let gi = g[i];
        if (h.decoupled) w *= 1 - h.lr * h.wd;
        else gi += h.wd * w;
        m[i] = b1 * m[i] + (1 - b1) * gi;
        v[i] = b2 * v[i] + (1 - b2) * gi * gi;
        p[i] = w - (h.lr / (1 - b1 ** t)) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps);
      }
    }
  });
  return p;
}

gpuTest("lazy Adam/AdamW: untouched rows keep weights and moments (CPU reference)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 7, 13, 64),
      fc.constantFrom(1, 3, 8, 17),
      fc.boolean(),
      fc.integer({ min: 0, max: 1e6 }),
      async (rows, cols, decoupled, seed) => {
        const rng = new Rng(seed);
        const h = { lr: 0.01, wd: decoupled ? 0.05 : 0.01, decoupled };
        const p0 = randArray(rows * cols, seed);
        // Each step touches a random subset of rows (sometimes none, sometimes all).
        const grads = Array.from({ length: 3 }, (_, s) => {
          const g = randArray(rows * cols, seed + 1 + s);
          for (let r = 0; r < rows; r++) {
            if (rng.uniform() < 0.5) g.fill(0, r * cols, (r + 1) * cols);
          }
          return g;
        });
        const p = keep(tensor(p0, [rows, cols]));
        const o = { lr: h.lr, weightDecay: h.wd, lazy: true };
        const opt = decoupled ? new AdamW([p], o) : new Adam([p], o);
        for (const g of grads) {
          p.grad = keep(tensor(g, [rows, cols]));
          opt.step();
          opt.zeroGrad();
        }
        assertClose(await p.read(), lazyAdamRef(p0, grads, rows, cols, h), {
          atol: 1e-6,
          rtol: 1e-5,
        });
        opt.dispose();
        p.dispose();
      },
    ),
    { numRuns: 12 },
  );
});

gpuTest("lazy Adam equals dense Adam when every row is touched", async () => {
  const p0 = randArray(11 * 5, 1);
  const g = randArray(11 * 5, 2).map((x) => x || 1);
  const run = async (lazy: boolean) => {
    const p = keep(tensor(p0, [11, 5]));
    const opt = new Adam([p], { lr: 0.02, lazy });
    for (let s = 0; s < 2; s++) {
      p.grad = keep(tensor(g, [11, 5]));
      opt.step();
      opt.zeroGrad();
    }
    const out = await p.read();
    opt.dispose();
    p.dispose();
    return out;
  };
  assertClose(await run(true), await run(false), { atol: 1e-7, rtol: 1e-6 });
});

gpuTest("lazy Adam: a listed parameter that is not a table is refused", () => {
  const b = keep(tensor(new Float32Array(4), [4]));
  assert.throws(() => new Adam([b], { lr: 0.1, lazy: [b] }), /wgrec Adam: lazy updates need/);
  // `true` picks 2-D parameters only: a bias stays dense.
  new Adam([b], { lr: 0.1, lazy: true }).dispose();
  b.dispose();
});
