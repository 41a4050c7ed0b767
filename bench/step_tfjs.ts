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

// The full package: under Deno, tfjs-core alone (its Node build) registers no gradients.
const TFJS = "npm:@tensorflow/tfjs@4.22";
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
  tf = await import(TFJS);
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
    tf.mul(tf.randomUniform([rows, cols], -1, 1, "float32", seed), Math.sqrt(6 / (rows + cols))),
  );
const zeros = (n: number) => tf.variable(tf.zeros([n]));
const ones = (n: number) => tf.variable(tf.ones([n]));

const lin = (x: Any, w: Any, b: Any) => tf.add(tf.matMul(x, w), b);

/** tf.concat in groups of 6: a kernel over more inputs than storage bindings is not safe here. */
function concatSmall(parts: Any[], axis: number): Any {
  if (parts.length <= 6) return tf.concat(parts, axis);
  const groups = [];
  for (let i = 0; i < parts.length; i += 6) groups.push(tf.concat(parts.slice(i, i + 6), axis));
  return concatSmall(groups, axis);
}

function layerNorm(x: Any, g: Any, b: Any): Any {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
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
    tf.reshape(tf.transpose(tf.reshape(t, [B, L, H, dh]), [0, 2, 1, 3]), [B * H, L, dh]);
  const forward = () => {
    let h = xs;
    for (const p of layers) {
      const [q, k, v] = tf.split(lin(h, p.wIn, p.bIn), 3, 1);
      const s = tf.softmax(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(dh)));
      const o = tf.reshape(
        tf.transpose(tf.reshape(tf.matMul(s, heads(v)), [B, H, L, dh]), [0, 2, 1, 3]),
        [B * L, d],
      );
      h = layerNorm(tf.add(h, lin(o, p.wOut, p.bOut)), p.g1, p.n1);
      const f = lin(tf.relu(lin(h, p.w1, p.b1)), p.w2, p.b2);
      h = layerNorm(tf.add(h, f), p.g2, p.n2);
    }
    return tf.mean(tf.square(tf.sub(h, ts)));
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
        parts.push(tf.reshape(tf.mul(tf.expandDims(num, 2), numW), [B, N * d]));
        const x0 = concatSmall(parts, 1);
        let x = x0;
        for (const l of cross) x = tf.add(tf.mul(x0, lin(x, l.w, l.b)), x);
        let h = x0;
        for (const l of dnn) h = tf.relu(lin(h, l.w, l.b));
        const logit = tf.reshape(lin(tf.concat([x, h], 1), fc.w, fc.b), [B]);
        const y = tf.tensor1d(b.labels);
        return tf.mean(tf.sub(tf.softplus(logit), tf.mul(logit, y)));
      }, true);
    },
    dispose() {
      opt.dispose();
      for (const t of [...tables, numW, fc.w, fc.b]) t.dispose();
      for (const l of [...cross, ...dnn]) l.w.dispose(), l.b.dispose();
    },
  };
}
