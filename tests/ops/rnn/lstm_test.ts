// LSTM: the fused cell against a CPU reference over awkward sizes, whole sequences (stacked,
// bidirectional) against a CPU LSTM with PyTorch's gate order, gradients through time, bad input.
import fc from "npm:fast-check@3";
import {
  add,
  backward,
  lstm,
  lstmCell,
  lstmSequence,
  lstmTuning,
  type LstmWeights,
  mul,
  readAll,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

async function vals(f: () => Tensor[]): Promise<Float32Array[]> {
  const ts = tidy(f);
  const out = await readAll(ts);
  for (const t of ts) t.dispose();
  return out as Float32Array[];
}

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** One cell step on the host: gates [B, 4H] (i, f, g, o), c [B, H] → [B, 2H] = [h | c]. */
function cellRef(gates: ArrayLike<number>, c: ArrayLike<number>, B: number, H: number) {
  const out = new Float64Array(B * 2 * H);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < H; j++) {
      const g = (k: number) => gates[b * 4 * H + k * H + j];
      const cn = sig(g(1)) * c[b * H + j] + sig(g(0)) * Math.tanh(g(2));
      out[b * 2 * H + j] = sig(g(3)) * Math.tanh(cn);
      out[b * 2 * H + H + j] = cn;
    }
  }
  return out;
}

interface HostW {
  ih: Float32Array;
  hh: Float32Array;
  bih: Float32Array;
  bhh: Float32Array;
}

/** PyTorch nn.LSTM(batch_first) on the host: layers × directions of weights. */
function lstmRef(x: Float32Array, B: number, T: number, I: number, H: number, ws: HostW[][]) {
  let inp = Float64Array.from(x);
  let inDim = I;
  for (const layer of ws) {
    const D = layer.length;
    const out = new Float64Array(B * T * D * H);
    layer.forEach((w, d) => {
      let h = new Float64Array(B * H);
      let c = new Float64Array(B * H);
      for (let s = 0; s < T; s++) {
        const t = d === 1 ? T - 1 - s : s;
        const gates = new Float64Array(B * 4 * H);
        for (let b = 0; b < B; b++) {
          for (let r = 0; r < 4 * H; r++) {
            let acc = w.bih[r] + w.bhh[r];
            for (let k = 0; k < inDim; k++) {
              acc += inp[(b * T + t) * inDim + k] * w.ih[r * inDim + k];
            }
            for (let k = 0; k < H; k++) acc += h[b * H + k] * w.hh[r * H + k];
            gates[b * 4 * H + r] = acc;
          }
        }
        const hc = cellRef(gates, c, B, H);
        h = new Float64Array(B * H);
        c = new Float64Array(B * H);
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            h[b * H + j] = hc[b * 2 * H + j];
            c[b * H + j] = hc[b * 2 * H + H + j];
            out[(b * T + t) * D * H + d * H + j] = h[b * H + j];
          }
        }
      }
    });
    inp = out;
    inDim = D * H;
  }
  return Float32Array.from(inp);
}

function hostWeights(layers: number, D: number, I: number, H: number, seed: number): HostW[][] {
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: D }, (_, d) => {
      const s = seed + 10 * (l * 2 + d);
      const inDim = l === 0 ? I : D * H;
      return {
        ih: randArray(4 * H * inDim, s, 0.5),
        hh: randArray(4 * H * H, s + 1, 0.5),
        bih: randArray(4 * H, s + 2, 0.5),
        bhh: randArray(4 * H, s + 3, 0.5),
      };
    }));
}

function gpuWeights(ws: HostW[][], I: number, H: number): LstmWeights[][] {
  return ws.map((layer, l) =>
    layer.map((w) => ({
      weightIh: tensor(w.ih, [4 * H, l === 0 ? I : layer.length * H]),
      weightHh: tensor(w.hh, [4 * H, H]),
      biasIh: tensor(w.bih),
      biasHh: tensor(w.bhh),
    }))
  );
}

gpuTest("lstmCell: random sizes match the CPU reference", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 2, 5),
      fc.constantFrom(1, 3, 7, 64, 67),
      fc.integer({ min: 0, max: 999 }),
      async (B, H, seed) => {
        const g = randArray(B * 4 * H, seed, 2);
        const c = randArray(B * H, seed + 1);
        const [y] = await vals(() => [lstmCell(tensor(g, [B, 4 * H]), tensor(c, [B, H]))]);
        assertClose(y, cellRef(g, c, B, H), { atol: 1e-5, rtol: 1e-4, msg: `B ${B} H ${H}` });
      },
    ),
    { numRuns: 10 },
  );
});

gpuTest("lstm: stacked and bidirectional sequences match the CPU LSTM", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(1, 3),
      fc.constantFrom(1, 2, 5),
      fc.constantFrom(1, 4, 7),
      fc.constantFrom(1, 3, 8),
      fc.constantFrom(1, 2),
      fc.constantFrom(1, 2),
      fc.integer({ min: 0, max: 999 }),
      async (B, T, I, H, layers, D, seed) => {
        const x = randArray(B * T * I, seed);
        const ws = hostWeights(layers, D, I, H, seed + 1);
        const [y, hN] = await vals(() => {
          const r = lstm(tensor(x, [B, T, I]), gpuWeights(ws, I, H));
          return [r.output, r.h];
        });
        const msg = JSON.stringify({ B, T, I, H, layers, D });
        const ref = lstmRef(x, B, T, I, H, ws);
        assertClose(y, ref, { atol: 1e-5, rtol: 1e-4, msg });
        // The last layer's forward final state is its output at t = T − 1.
        const last = (layers - 1) * D;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const want = ref[(b * T + T - 1) * D * H + j];
            assertClose([hN[(last * B + b) * H + j]], [want], { atol: 1e-5, msg });
          }
        }
      },
    ),
    { numRuns: 8 },
  );
});

gpuTest("lstm: gradients through time match finite differences (x and weights)", async () => {
  const [B, T, I, H] = [2, 3, 3, 2];
  const ws = hostWeights(1, 2, I, H, 5)[0];
  await checkGrad(
    (x, ihF, hhF, hhR, bR) => {
      const w = gpuWeights([ws], I, H)[0];
      return lstm(x, [[
        { ...w[0], weightIh: ihF, weightHh: hhF },
        { ...w[1], weightHh: hhR, biasHh: bR },
      ]]).output;
    },
    [randArray(B * T * I, 1), ws[0].ih, ws[0].hh, ws[1].hh, ws[1].bhh],
    [[B, T, I], [4 * H, I], [4 * H, H], [4 * H, H], [4 * H]],
    { eps: 1e-2, tol: 2e-2 },
  );
  await checkGrad(
    (g, c) => lstmCell(g, c),
    [randArray(3 * 4 * 5, 2), randArray(3 * 5, 3)],
    [[3, 20], [3, 5]],
  );
});

/** Runs `f` with the sequence kernel's tuning changed, restoring it after. */
async function withTuning<T>(t: Partial<typeof lstmTuning>, f: () => Promise<T>): Promise<T> {
  const saved = { ...lstmTuning };
  Object.assign(lstmTuning, t);
  try {
    return await f();
  } finally {
    Object.assign(lstmTuning, saved);
  }
}

gpuTest("lstm: the fused recurrence equals the per-step form (values and gradients)", async () => {
  // Chunked to one step per dispatch, bidirectional, a loss on the output and the final h and c:
  // every gradient of the sequence kernels against the per-step matmul + cell ops.
  const [B, T, I, H] = [3, 5, 2, 3];
  const ws = hostWeights(1, 2, I, H, 21);
  const x = randArray(B * T * I, 4);
  const run = () =>
    vals(() => {
      const xt = tensor(x, [B, T, I]);
      const w = gpuWeights(ws, I, H);
      const ps = [xt, ...w[0].flatMap((d) => [d.weightIh, d.weightHh, d.biasIh!, d.biasHh!])];
      for (const p of ps) p.requiresGrad = true;
      const r = lstm(xt, w);
      const loss = add(
        add(
          sum(mul(r.output, tensor(randArray(B * T * 2 * H, 7), [B, T, 2 * H]))),
          sum(mul(r.h, tensor(randArray(2 * B * H, 8), [2, B, H]))),
        ),
        sum(mul(r.c, tensor(randArray(2 * B * H, 9), [2, B, H]))),
      );
      backward(loss);
      return [r.output, r.h, r.c, ...ps.map((p) => p.grad!)];
    });
  const fused = await withTuning({ loopBudget: 1 }, run);
  const steps = await withTuning({ fused: false }, run);
  assert.equal(fused.length, steps.length);
  fused.forEach((v, i) => assertClose(v, steps[i], { atol: 1e-5, rtol: 1e-4, msg: `#${i}` }));
});

gpuTest(
  "lstmSequence: H past one invocation's units (scalar and vec4 loads), finite differences",
  async () => {
    // 67 and 130: scalar loads (H % 4 != 0); 132: vec4 rows of W_hh, three units per invocation.
    for (const [B, T, I, H] of [[2, 3, 2, 67], [1, 2, 1, 130], [2, 2, 3, 132]]) {
      const ws = hostWeights(1, 1, I, H, H);
      const x = randArray(B * T * I, 3);
      const [y] = await vals(() => [lstm(tensor(x, [B, T, I]), gpuWeights(ws, I, H)).output]);
      assertClose(y, lstmRef(x, B, T, I, H, ws), { atol: 1e-5, rtol: 1e-4, msg: `H = ${H}` });
    }
    // Reverse, chunked: the gradient of [h | c] of every step against finite differences.
    await withTuning({ loopBudget: 1 }, () =>
      checkGrad(
        (gi, whh) => lstmSequence(gi, whh, true),
        [randArray(2 * 3 * 8, 5), randArray(8 * 2, 6, 0.5)],
        [[2, 3, 8], [8, 2]],
        { eps: 1e-2, tol: 2e-2 },
      ));
  },
);

gpuTest("lstm: bad input names the op and the shapes", () => {
  tidy(() => {
    assert.throws(
      () => lstmCell(tensor(randArray(12, 1), [2, 6]), tensor([1, 2, 3, 4], [2, 2])),
      /lstmCell: gates \[2, 6\]/,
    );
    const w = gpuWeights(hostWeights(1, 1, 3, 2, 1), 3, 2);
    assert.throws(() => lstm(tensor(randArray(8, 1), [2, 2, 2]), w), /lstm: layer 0 .*\[4H, 2\]/);
    assert.throws(() => lstm(tensor(randArray(6, 1), [2, 3]), w), /\[B, T ≥ 1, in\]/);
    assert.throws(
      () => lstmSequence(tensor(randArray(12, 1), [1, 2, 6]), tensor(randArray(8, 1), [4, 2])),
      /lstmSequence: gi \[1, 2, 6\] and whh \[4, 2\] do not fit/,
    );
    assert.throws(
      () =>
        lstmSequence(
          tensor(new Float32Array(4 * 257), [1, 1, 4 * 257]),
          tensor(new Float32Array(4 * 257 * 257), [4 * 257, 257]),
        ),
      /hidden size 257 is above the kernels' 256/,
    );
  });
});
