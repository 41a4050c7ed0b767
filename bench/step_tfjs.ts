/**
 * The tfjs-webgpu side of bench/step_bench.ts: the transformer encoder and DCN-v2 training
 * steps written with tfjs-core ops and its autodiff (`optimizer.minimize`), on tfjs's own
 * WebGPU device on the same adapter, in the same process as wgrec's run. Same shapes, same
 * fixed inputs, Adam (lr 1e-3); the loss of the last timed step is read back once at the end
 * of the window, as wgrec's is. tfjs has no sparse-dense product, so LightGCN and AlignRec are
 * not written here.
 * @module
 */

import type { CtrBatch } from "../src/nn/features.ts";

const TFJS_CORE = "npm:@tensorflow/tfjs-core@4.22";
const TFJS_WEBGPU = "npm:@tensorflow/tfjs-backend-webgpu@4.22";

// deno-lint-ignore no-explicit-any
type Any = any;

/** One tfjs training step; returns the loss scalar (a tfjs tensor the caller disposes). */
export interface TfjsBench {
  name: string;
  samples: number;
  step(i: number): Any;
  dispose(): void;
}

let tf: Any = null;

/** Starts tfjs-core on its WebGPU backend; returns its version and adapter description. */
export async function startTfjs(): Promise<{ version: string; adapter: string }> {
  tf = await import(TFJS_CORE);
  await import(TFJS_WEBGPU);
  if (!(await tf.setBackend("webgpu"))) throw new Error("tf.setBackend('webgpu') failed");
  await tf.ready();
  const be = tf.backend();
  const adapter = be.adapterInfo?.description ?? be.device?.adapterInfo?.description ?? "?";
  return { version: tf.version_core, adapter };
}

/** Reads a tfjs scalar (waits for the queue). */
export async function tfjsRead(t: Any): Promise<number> {
  return (await t.data())[0];
}

const glorot = (rows: number, cols: number, seed: number) =>
  tf.variable(
    tf.randomUniform([rows, cols], -1, 1, "float32", seed).mul(Math.sqrt(6 / (rows + cols))),
  );
const zeros = (n: number) => tf.variable(tf.zeros([n]));
const ones = (n: number) => tf.variable(tf.ones([n]));

function layerNorm(x: Any, g: Any, b: Any): Any {
  const { mean, variance } = tf.moments(x, -1, true);
  return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
}

/** Post-LN encoder layers (PyTorch's `TransformerEncoderLayer`, dropout 0), MSE to a target. */
export function tfjsTransformer(
  tfc: { B: number; L: number; d: number; heads: number; ff: number; layers: number },
  x: Float32Array,
  target: Float32Array,
): TfjsBench {
  const { B, L, d, heads: H, ff } = tfc;
  const dh = d / H;
  const layers = Array.from({ length: tfc.layers }, (_, l) => ({
    wIn: glorot(d, 3 * d, 10 * l + 1),
    bIn: zeros(3 * d),
    wOut: glorot(d, d, 10 * l + 2),
    bOut: zeros(d),
    w1: glorot(d, ff, 10 * l + 3),
    b1: zeros(ff),
    w2: glorot(ff, d, 10 * l + 4),
    b2: zeros(d),
    g1: ones(d),
    n1: zeros(d),
    g2: ones(d),
    n2: zeros(d),
  }));
  const xs = tf.tensor2d(x, [B * L, d]);
  const ts = tf.tensor2d(target, [B * L, d]);
  const opt = tf.train.adam(1e-3);
  const heads = (t: Any) =>
    t.reshape([B, L, H, dh]).transpose([0, 2, 1, 3]).reshape([B * H, L, dh]);
  const forward = () => {
    let h = xs;
    for (const p of layers) {
      const [q, k, v] = tf.split(h.matMul(p.wIn).add(p.bIn), 3, 1);
      const s = tf.softmax(tf.matMul(heads(q), heads(k), false, true).mul(1 / Math.sqrt(dh)));
      const o = tf.matMul(s, heads(v)).reshape([B, H, L, dh]).transpose([0, 2, 1, 3])
        .reshape([B * L, d]);
      h = layerNorm(h.add(o.matMul(p.wOut).add(p.bOut)), p.g1, p.n1);
      const f = tf.relu(h.matMul(p.w1).add(p.b1)).matMul(p.w2).add(p.b2);
      h = layerNorm(h.add(f), p.g2, p.n2);
    }
    return tf.mean(tf.square(h.sub(ts)));
  };
  return {
    name: "transformer",
    samples: B,
    step: () => opt.minimize(forward, true),
    dispose() {
      opt.dispose();
      for (const p of layers) for (const v of Object.values(p)) (v as Any).dispose();
      xs.dispose();
      ts.dispose();
    },
  };
}

/** DCN-v2 (parallel) over per-field tables, as bench/step_bench.ts's wgrec model. */
export function tfjsDcn(
  c: {
    B: number;
    cat: number;
    num: number;
    vocab: number;
    d: number;
    cross: number;
    hidden: number[];
  },
  batches: CtrBatch[],
): TfjsBench {
  const { B, cat: C, num: N, vocab, d } = c;
  const D = (C + N) * d;
  const tables = Array.from(
    { length: C },
    (_, j) => tf.variable(tf.randomNormal([vocab, d], 0, 1e-4, "float32", 100 + j)),
  );
  const numW = tf.variable(tf.randomNormal([N, d], 0, 1e-4, "float32", 99));
  const cross = Array.from(
    { length: c.cross },
    (_, l) => ({ w: glorot(D, D, 200 + l), b: zeros(D) }),
  );
  const sizes = [D, ...c.hidden];
  const dnn = sizes.slice(1).map((n, i) => ({ w: glorot(sizes[i], n, 300 + i), b: zeros(n) }));
  const fc = { w: glorot(D + sizes[sizes.length - 1], 1, 400), b: zeros(1) };
  const opt = tf.train.adam(1e-3);
  return {
    name: "dcnv2",
    samples: B,
    step(i) {
      const b = batches[i % batches.length];
      return opt.minimize(() => {
        // Per-field id columns from the row-major [B, C] host batch, uploaded per step.
        const ids = tf.tensor2d(b.categorical, [B, C], "int32");
        const cols = tf.unstack(ids, 1);
        const parts = tables.map((t, j) => tf.gather(t, cols[j]));
        const num = tf.tensor2d(b.numeric, [B, N]);
        parts.push(num.expandDims(2).mul(numW).reshape([B, N * d]));
        const x0 = tf.concat(parts, 1);
        let x = x0;
        for (const l of cross) x = x0.mul(x.matMul(l.w).add(l.b)).add(x);
        let h = x0;
        for (const l of dnn) h = tf.relu(h.matMul(l.w).add(l.b));
        const logit = tf.concat([x, h], 1).matMul(fc.w).add(fc.b).reshape([B]);
        const y = tf.tensor1d(b.labels);
        return tf.mean(tf.softplus(logit).sub(logit.mul(y)));
      }, true);
    },
    dispose() {
      opt.dispose();
      for (const t of [...tables, numW, fc.w, fc.b]) t.dispose();
      for (const l of [...cross, ...dnn]) l.w.dispose(), l.b.dispose();
    },
  };
}
