/**
 * The main job: trains a 2-layer MLP click model on generated data and reports its loss and
 * accuracy. (`deno task demo`; the AlignRec demo replaces it when that model lands.)
 * @module
 */

import {
  Adam,
  backward,
  init,
  keep,
  mean,
  MLP,
  mul,
  readAll,
  reshape,
  softplus,
  sub,
  tensor,
  tidy,
} from "../mod.ts";
import { Rng } from "../src/random.ts";

const rt = await init();
console.log(`adapter: ${rt.gpu.adapter.description || rt.gpu.adapter.vendor}`);

// Generated data: a nonlinear decision rule over 8 features, 10 % label noise.
const n = 4096, d = 8;
const rng = new Rng(1);
const xs = new Float32Array(n * d);
const ys = new Float32Array(n);
for (let i = 0; i < n; i++) {
  for (let j = 0; j < d; j++) xs[i * d + j] = rng.normal();
  const f = xs[i * d] * xs[i * d + 1] + Math.sin(2 * xs[i * d + 2]) - 0.5 * xs[i * d + 3] ** 2;
  ys[i] = Number((f + 0.5 > 0) !== (rng.uniform() < 0.1));
}
const split = Math.floor(n * 0.8);
const xTrain = keep(tensor(xs.subarray(0, split * d), [split, d]));
const yTrain = keep(tensor(ys.subarray(0, split), [split]));
const xTest = keep(tensor(xs.subarray(split * d), [n - split, d]));

const model = new MLP([d, 64, 64, 1], "relu", 3);
const opt = new Adam(model.parameters(), { lr: 0.01 });
const t0 = performance.now();
for (let epoch = 1; epoch <= 300; epoch++) {
  const loss = tidy(() => {
    const z = reshape(model.forward(xTrain), [split]);
    const l = mean(sub(softplus(z), mul(yTrain, z))); // BCE with logits
    backward(l);
    opt.step();
    opt.zeroGrad();
    return l;
  });
  if (epoch % 50 === 0) {
    const [l] = await readAll([loss]);
    const z = await tidy(() => model.forward(xTest)).read();
    let correct = 0;
    for (let i = 0; i < z.length; i++) correct += Number((z[i] > 0) === (ys[split + i] === 1));
    const secs = (performance.now() - t0) / 1000;
    console.log(
      `epoch ${epoch}  loss ${l[0].toFixed(4)}  test accuracy ${(correct / z.length).toFixed(3)}` +
        `  (${(epoch / secs).toFixed(0)} steps/s)`,
    );
  }
  loss.dispose();
}
