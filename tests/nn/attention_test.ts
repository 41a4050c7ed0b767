// Attention layers (src/nn/attention.ts): PyTorch golden values for MultiheadAttention and
// TransformerEncoderLayer (post-LN and pre-LN), CPU references for cross-attention with other
// key/value widths, additive attention pooling and DIN-style target attention, gradient checks.
import {
  AdditiveAttentionPooling,
  backward,
  type Module,
  mul,
  MultiHeadAttention,
  readAll,
  sum,
  TargetAttention,
  type Tensor,
  tensor,
  tidy,
  TransformerEncoderLayer,
} from "../../internal.ts";
import { assert, assertClose, checkGrad, gpuTest, randArray } from "../helpers.ts";

interface LayerCase {
  name: string;
  state: Record<string, number[]>;
  x: number[];
  shape: number[];
  lengths: number[];
  w: number[];
  out: number[];
  grad_x: number[];
}

const layers: LayerCase[] = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/attention_layers.json", import.meta.url)),
);

function load(m: Module, state: Record<string, number[]>): void {
  for (const [name, values] of Object.entries(state)) {
    const p = m.getParameter(name);
    m.setParameter(name, tensor(Float32Array.from(values), p.shape));
  }
  assert.equal(m.namedParameters().length, Object.keys(state).length, "same parameter set");
}

/** Output and input gradient of sum(f(x)·w). */
async function outAndGrad(f: (x: Tensor<"f32">) => Tensor<"f32">, c: LayerCase) {
  const ts = tidy(() => {
    const x = tensor(Float32Array.from(c.x), c.shape);
    x.requiresGrad = true;
    const y = f(x);
    backward(sum(mul(y, tensor(Float32Array.from(c.w), y.shape))));
    return [y, x.grad!];
  });
  const r = await readAll(ts);
  for (const t of ts) t.dispose();
  return r;
}

gpuTest("MultiHeadAttention matches torch.nn.MultiheadAttention (key padding mask)", async () => {
  const c = layers.find((l) => l.name === "mha")!;
  const [, , E] = c.shape;
  const mha = new MultiHeadAttention(E, 2);
  load(mha, c.state);
  const [y, gx] = await outAndGrad((x) => mha.forward(x, x, x, { keyLengths: c.lengths }), c);
  assertClose(y, c.out, { atol: 2e-5, rtol: 1e-4, msg: "out" });
  assertClose(gx, c.grad_x, { atol: 2e-5, rtol: 1e-4, msg: "grad x" });
  mha.dispose();
});

for (const name of ["encoder_post_relu", "encoder_pre_gelu"]) {
  gpuTest(`TransformerEncoderLayer matches PyTorch (${name})`, async () => {
    const c = layers.find((l) => l.name === name)!;
    const [, , E] = c.shape;
    const layer = new TransformerEncoderLayer(E, 2, {
      dimFeedforward: 16,
      dropout: 0,
      activation: name.endsWith("gelu") ? "gelu" : "relu",
      normFirst: name.includes("pre"),
    });
    load(layer, c.state);
    const [y, gx] = await outAndGrad((x) => layer.forward(x, { keyLengths: c.lengths }), c);
    assertClose(y, c.out, { atol: 5e-5, rtol: 2e-4, msg: `${name} out` });
    assertClose(gx, c.grad_x, { atol: 5e-5, rtol: 2e-4, msg: `${name} grad x` });
    layer.dispose();
  });
}

// --- CPU helpers ---------------------------------------------------------------------------

/** y [n, o] = x [n, i] · Wᵀ + b, W [o, i]. */
function linearCpu(x: Float32Array, n: number, w: Float32Array, b: Float32Array | null, o: number) {
  const i = x.length / n;
  const y = new Float64Array(n * o);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < o; c++) {
      let a = b ? b[c] : 0;
      for (let k = 0; k < i; k++) a += x[r * i + k] * w[c * i + k];
      y[r * o + c] = a;
    }
  }
  return y;
}

/** Masked softmax pooling: Σ_j softmax(s)_j v_j over j < len (0 when len = 0). */
function pool(s: number[], vals: (j: number, d: number) => number, len: number, dv: number) {
  const out = new Float64Array(dv);
  if (len === 0) return out;
  const m = Math.max(...s.slice(0, len));
  const e = s.slice(0, len).map((x) => Math.exp(x - m));
  const z = e.reduce((a, c) => a + c, 0);
  e.forEach((p, j) => {
    for (let d = 0; d < dv; d++) out[d] += (p / z) * vals(j, d);
  });
  return out;
}

gpuTest("MultiHeadAttention cross-attention with other key/value widths vs CPU", async () => {
  const [B, Lq, Lk, E, H, kd, vd] = [2, 3, 5, 8, 2, 6, 5];
  const Dh = E / H;
  const mha = new MultiHeadAttention(E, H, { kdim: kd, vdim: vd, seed: 3 });
  const xq = randArray(B * Lq * E, 1);
  const xk = randArray(B * Lk * kd, 2);
  const xv = randArray(B * Lk * vd, 3);
  const lengths = [5, 2];
  const params = await readAll([
    mha.qProjWeight!,
    mha.kProjWeight!,
    mha.vProjWeight!,
    mha.inProjBias!,
    mha.outProj.weight,
    mha.outProj.bias!,
  ]);
  const [wq, wk, wv, bin, wo, bo] = params;
  const ts = tidy(() => [
    mha.forward(tensor(xq, [B, Lq, E]), tensor(xk, [B, Lk, kd]), tensor(xv, [B, Lk, vd]), {
      keyLengths: lengths,
    }),
  ]);
  const [got] = await readAll(ts);
  ts[0].dispose();
  const q = linearCpu(xq, B * Lq, wq, bin.slice(0, E), E);
  const k = linearCpu(xk, B * Lk, wk, bin.slice(E, 2 * E), E);
  const v = linearCpu(xv, B * Lk, wv, bin.slice(2 * E), E);
  const heads = new Float32Array(B * Lq * E);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      for (let i = 0; i < Lq; i++) {
        const s = [...Array(Lk)].map((_, j) => {
          let a = 0;
          for (let d = 0; d < Dh; d++) {
            a += q[(b * Lq + i) * E + h * Dh + d] * k[(b * Lk + j) * E + h * Dh + d];
          }
          return a / Math.sqrt(Dh);
        });
        const o = pool(s, (j, d) => v[(b * Lk + j) * E + h * Dh + d], lengths[b], Dh);
        o.forEach((x, d) => (heads[(b * Lq + i) * E + h * Dh + d] = x));
      }
    }
  }
  assertClose(got, linearCpu(heads, B * Lq, wo, bo, E), { atol: 1e-5, rtol: 1e-4 });
  mha.dispose();
});

gpuTest("AdditiveAttentionPooling vs CPU, gradient check, empty sequence", async () => {
  // Head dims (A, E) = (4, 4), those of the MultiHeadAttention tests (E = 8, 2 heads): the
  // same attention pipelines, compiled once (each head-dim pair compiles its own).
  const [B, L, E, A] = [3, 6, 4, 4];
  const layer = new AdditiveAttentionPooling(E, A, 5);
  const x = randArray(B * L * E, 9);
  const lengths = [6, 2, 0];
  const [w, b, qv] = await readAll([layer.proj.weight, layer.proj.bias!, layer.query]);
  const ts = tidy(() => [layer.forward(tensor(x, [B, L, E]), lengths)]);
  const [got] = await readAll(ts);
  ts[0].dispose();
  const hid = linearCpu(x, B * L, w, b, A).map(Math.tanh);
  const want = new Float64Array(B * E);
  for (let bb = 0; bb < B; bb++) {
    const s = [...Array(L)].map((_, j) => {
      let a = 0;
      for (let d = 0; d < A; d++) a += qv[d] * hid[(bb * L + j) * A + d];
      return a;
    });
    pool(s, (j, d) => x[(bb * L + j) * E + d], lengths[bb], E).forEach((v, d) =>
      want[bb * E + d] = v
    );
  }
  assertClose(got, want, { atol: 1e-5, rtol: 1e-4 });
  assert.ok(Array.from(got.slice(2 * E)).every((v) => v === 0), "length 0 pools to 0");
  await checkGrad((h) => layer.forward(h, [6, 3]), [randArray(2 * L * E, 4)], [[2, L, E]]);
  layer.dispose();
});

gpuTest(
  "TargetAttention (DIN): sum and softmax pooling of the activation-unit weights",
  async () => {
    const [B, L, E] = [2, 5, 4];
    const h = randArray(B * L * E, 1);
    const t = randArray(B * E, 2);
    const lengths = [5, 3];
    for (const softmax of [false, true]) {
      const din = new TargetAttention(E, [8, 4], { softmax, seed: 1 });
      const ts = tidy(() => {
        const ht = tensor(h, [B, L, E]);
        const tt = tensor(t, [B, E]);
        return [din.forward(ht, tt, lengths), din.weights(ht, tt)];
      });
      const [got, w] = await readAll(ts);
      for (const x of ts) x.dispose();
      const want = new Float64Array(B * E);
      for (let b = 0; b < B; b++) {
        const s = [...Array(L)].map((_, j) => w[b * L + j]);
        const val = (j: number, d: number) => h[(b * L + j) * E + d];
        if (softmax) pool(s, val, lengths[b], E).forEach((v, d) => (want[b * E + d] = v));
        else {
          for (let j = 0; j < lengths[b]; j++) {
            for (let d = 0; d < E; d++) want[b * E + d] += s[j] * val(j, d);
          }
        }
      }
      assertClose(got, want, { atol: 1e-5, rtol: 1e-4, msg: `softmax ${softmax}` });
      await checkGrad(
        (hh, tt) => din.forward(hh, tt, lengths),
        [h, t],
        [[B, L, E], [B, E]],
      );
      din.dispose();
    }
  },
);

gpuTest("attention layers: bad inputs name the layer and the shapes", () => {
  assert.throws(() => new MultiHeadAttention(10, 3), /wgrec MultiHeadAttention: embedDim 10/);
  const mha = new MultiHeadAttention(8, 2);
  const pool = new AdditiveAttentionPooling(4, 3);
  tidy(() => {
    const x = tensor(new Float32Array(2 * 3 * 6), [2, 3, 6]);
    assert.throws(() => mha.forward(x), /wgrec MultiHeadAttention: query \[2, 3, 6\]/);
    assert.throws(() => pool.forward(x), /wgrec AdditiveAttentionPooling: input \[2, 3, 6\]/);
  });
  mha.dispose();
  pool.dispose();
});
