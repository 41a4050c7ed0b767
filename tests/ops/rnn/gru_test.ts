// GRU recurrence (gruSequence) and the GRU layer: forward against a CPU reference of PyTorch's
// equations over awkward shapes and lengths, gradients by finite differences and against the
// reference's own backward (by central differences of the CPU loss), chunked launches, errors.
import fc from "npm:fast-check@3";
import {
  backward,
  GRU,
  gruSequence,
  gruTuning,
  mul,
  readAll,
  sum,
  tensor,
  tidy,
} from "../../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../../helpers.ts";

const sig = (x: number) => 1 / (1 + Math.exp(-x));

/** CPU reference: states [B, T, H] with the state carried past each length. */
export function gruRef(
  gi: ArrayLike<number>,
  whh: ArrayLike<number>,
  bhh: ArrayLike<number>,
  h0: ArrayLike<number>,
  lens: readonly number[],
  B: number,
  T: number,
  H: number,
): Float64Array {
  const out = new Float64Array(B * T * H);
  for (let b = 0; b < B; b++) {
    let h = Array.from({ length: H }, (_, j) => h0[b * H + j]);
    for (let t = 0; t < T; t++) {
      if (t < lens[b]) {
        const g = (b * T + t) * 3 * H;
        const next = new Array<number>(H);
        for (let j = 0; j < H; j++) {
          let ar = bhh[j], az = bhh[H + j], an = bhh[2 * H + j];
          for (let c = 0; c < H; c++) {
            ar += whh[j * H + c] * h[c];
            az += whh[(H + j) * H + c] * h[c];
            an += whh[(2 * H + j) * H + c] * h[c];
          }
          const r = sig(gi[g + j] + ar);
          const z = sig(gi[g + H + j] + az);
          const n = Math.tanh(gi[g + 2 * H + j] + r * an);
          next[j] = (1 - z) * n + z * h[j];
        }
        h = next;
      }
      out.set(h, (b * T + t) * H);
    }
  }
  return out;
}

interface Case {
  B: number;
  T: number;
  H: number;
  lens: number[];
  seed: number;
}

function data(c: Case) {
  const { B, T, H, seed } = c;
  return {
    gi: randArray(B * T * 3 * H, seed),
    whh: randArray(3 * H * H, seed + 1, 0.5),
    bhh: randArray(3 * H, seed + 2, 0.3),
    h0: randArray(B * H, seed + 3, 0.5),
  };
}

async function forwardMatches(c: Case): Promise<void> {
  const { B, T, H, lens } = c;
  const d = data(c);
  const [got] = await readAll(tidy(() => [
    gruSequence(
      tensor(d.gi, [B, T, 3 * H]),
      tensor(d.whh, [3 * H, H]),
      tensor(d.bhh, [3 * H]),
      tensor(d.h0, [B, H]),
      lens,
    ),
  ]));
  assertClose(got, gruRef(d.gi, d.whh, d.bhh, d.h0, lens, B, T, H), {
    atol: 2e-5,
    rtol: 1e-4,
    msg: JSON.stringify({ B, T, H, lens }),
  });
}

const caseArb = fc.record({
  B: fc.integer({ min: 1, max: 3 }),
  T: fc.integer({ min: 1, max: 5 }),
  H: fc.constantFrom(1, 3, 5, 7, 13),
  seed: fc.integer({ min: 0, max: 1000 }),
}).chain((c) =>
  fc.array(fc.integer({ min: 0, max: c.T }), { minLength: c.B, maxLength: c.B })
    .map((lens) => ({ ...c, lens }))
);

gpuTest("gruSequence forward matches the CPU reference (awkward shapes, lengths)", async () => {
  await fc.assert(fc.asyncProperty(caseArb, forwardMatches), { numRuns: 12, seed: 19 });
});

gpuTest("gruSequence: hidden sizes past one invocation's units (H = 67, 130, 132)", async () => {
  await forwardMatches({ B: 2, T: 3, H: 67, lens: [3, 2], seed: 5 });
  await forwardMatches({ B: 1, T: 2, H: 130, lens: [2], seed: 6 });
  await forwardMatches({ B: 2, T: 2, H: 132, lens: [2, 1], seed: 7 }); // vec4 loads of W_hh
});

gpuTest("gruSequence: chunked launches give the same states and gradients", async () => {
  const saved = gruTuning.loopBudget;
  try {
    gruTuning.loopBudget = 1; // one step per dispatch
    await forwardMatches({ B: 3, T: 6, H: 5, lens: [6, 0, 4], seed: 9 });
    const c = { B: 2, T: 4, H: 3, lens: [4, 2], seed: 11 };
    const d = data(c);
    await checkGrad(
      (gi, whh, bhh, h0) => gruSequence(gi, whh, bhh, h0, c.lens),
      [d.gi, d.whh, d.bhh, d.h0],
      [[2, 4, 9], [9, 3], [9], [2, 3]],
      { eps: 1e-2, tol: 2e-2 },
    );
  } finally {
    gruTuning.loopBudget = saved;
  }
});

gpuTest("gruSequence gradients match finite differences (every input)", async () => {
  for (
    const c of [
      { B: 2, T: 3, H: 4, lens: [3, 1], seed: 1 },
      { B: 1, T: 1, H: 1, lens: [1], seed: 2 },
      { B: 3, T: 5, H: 7, lens: [5, 0, 2], seed: 3 },
    ]
  ) {
    const d = data(c);
    const { B, T, H } = c;
    await checkGrad(
      (gi, whh, bhh, h0) => gruSequence(gi, whh, bhh, h0, c.lens),
      [d.gi, d.whh, d.bhh, d.h0],
      [[B, T, 3 * H], [3 * H, H], [3 * H], [B, H]],
      { eps: 1e-2, tol: 2e-2 },
    );
  }
});

gpuTest("gruSequence gradient of the weights against the CPU reference's differences", async () => {
  // Elementwise: ∂(Σ w ⊙ out)/∂whh[i] by central differences of the float64 reference.
  const c = { B: 2, T: 3, H: 3, lens: [3, 2], seed: 21 };
  const { B, T, H, lens } = c;
  const d = data(c);
  const w = randArray(B * T * H, 77);
  const loss = (whh: ArrayLike<number>) =>
    gruRef(d.gi, whh, d.bhh, d.h0, lens, B, T, H).reduce((a, v, i) => a + v * w[i], 0);
  const expected = Array.from(d.whh, (_, i) => {
    const p = Float64Array.from(d.whh), m = Float64Array.from(d.whh);
    p[i] += 1e-5;
    m[i] -= 1e-5;
    return (loss(p) - loss(m)) / 2e-5;
  });
  const whh = tensor(d.whh, [3 * H, H]);
  whh.requiresGrad = true;
  const [g] = await readAll(tidy(() => {
    const out = gruSequence(
      tensor(d.gi, [B, T, 3 * H]),
      whh,
      tensor(d.bhh, [3 * H]),
      tensor(d.h0, [B, H]),
      lens,
    );
    backward(sum(mul(out, tensor(w, [B, T, H]))));
    return [whh.grad!];
  }));
  assertClose(g, expected, { atol: 1e-4, rtol: 1e-3 });
  whh.grad?.dispose();
  whh.dispose();
});

gpuTest("GRU layer: PyTorch names, last state at each length, gradient through x", async () => {
  const gru = new GRU(4, 6, 3);
  assert.deepEqual(
    gru.namedParameters().map(([n, p]: [string, { shape: readonly number[] }]) => [n, p.shape]),
    [
      ["weight_ih_l0", [18, 4]],
      ["weight_hh_l0", [18, 6]],
      ["bias_ih_l0", [18]],
      ["bias_hh_l0", [18]],
    ],
  );
  const x = randArray(2 * 3 * 4, 4);
  const [out, hidden] = await readAll(tidy(() => {
    const r = gru.forward(tensor(x, [2, 3, 4]), undefined, [3, 1]);
    return [r.output, r.hidden];
  }));
  // Sequence 1 (length 1): its last state is its state after step 0, carried to step 2.
  assertClose(hidden.slice(6, 12), out.slice(18, 24));
  assertClose(out.slice(30, 36), out.slice(18, 24));
  assertClose(hidden.slice(0, 6), out.slice(12, 18));
  await checkGrad(
    (xx) => gru.forward(xx, undefined, [3, 1]).output,
    [x],
    [[2, 3, 4]],
  );
  gru.dispose();
});

gpuTest("gruSequence: bad input names the op and the shapes", () => {
  tidy(() => {
    const gi = tensor(new Float32Array(2 * 3 * 6), [2, 3, 6]);
    const whh = tensor(new Float32Array(12), [6, 2]);
    const bhh = tensor(new Float32Array(6), [6]);
    const h0 = tensor(new Float32Array(4), [2, 2]);
    assert.throws(
      () => gruSequence(gi, whh, bhh, h0, [3, 4]),
      /gruSequence: length 4 of sequence 1, expected an integer in \[0, 3\]/,
    );
    assert.throws(
      () => gruSequence(gi, tensor(new Float32Array(12), [4, 3]), bhh, h0),
      /gruSequence: whh \[4, 3\] does not fit gi \[2, 3, 6\], expected \[6, 2\]/,
    );
    assert.throws(
      () => gruSequence(tensor(new Float32Array(10), [2, 5]), whh, bhh, h0),
      /gruSequence: gi \[2, 5\], expected \[B, T, 3H\]/,
    );
    assert.throws(() => new GRU(3, 300), /GRU: hidden size 300/);
    return [];
  });
});
