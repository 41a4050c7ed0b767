// Shared test helpers: one GPU runtime per test process, tolerant comparisons, and a
// directional finite-difference gradient check.
import assert from "node:assert/strict";
import {
  backward,
  init,
  mul,
  noGrad,
  randNormal,
  readAll,
  runtime,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../internal.ts";
import { Rng } from "../src/random.ts";

let ready: Promise<unknown> | null = null;

/** Deno.test with the GPU runtime initialised; resource sanitizers off (WebGPU keeps handles). */
export function gpuTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      ready ??= init();
      await ready;
      await fn();
    },
  });
}

/**
 * Long end-to-end checks run only with `WGREC_SLOW=1` (`deno task test:slow`), so the default
 * run stays within its time budget on two cores; each one's fast parts (PyTorch step checks,
 * the runner's tiny run of every model) stay in the default run.
 */
export const SLOW = Deno.env.get("WGREC_SLOW") === "1";

/** A {@link gpuTest} that runs only with `WGREC_SLOW=1` (reported as ignored otherwise). */
export function slowGpuTest(name: string, fn: () => Promise<void> | void): void {
  Deno.test({
    name: `${name} [slow]`,
    ignore: !SLOW,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      ready ??= init();
      await ready;
      await fn();
    },
  });
}

/** Asserts |a − b| ≤ atol + rtol·|b| elementwise, reporting the first failure. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-4, msg = "" } = {},
): void {
  assert.equal(actual.length, expected.length, `${msg} length`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${msg} index ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Host array of normal draws. */
export function randArray(n: number, seed: number, std = 1): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = std * r.normal();
  return a;
}

/**
 * Directional finite-difference check of the gradient of `f` at `inputs`: for a random
 * weighting w of the output and a random direction v, compares ⟨∇(Σ w·f), v⟩ with the
 * central difference (L(x + εv) − L(x − εv)) / 2ε, for every input separately.
 */
export async function checkGrad(
  f: (...xs: Tensor<"f32">[]) => Tensor<"f32">,
  inputs: Float32Array[],
  shapes: number[][],
  { eps = 1e-2, tol = 2e-2, seed = 7 } = {},
): Promise<void> {
  await tidy(async () => {
    const xs = inputs.map((d, i) => tensor(d, shapes[i]));
    for (const x of xs) x.requiresGrad = true;
    const y0 = f(...xs);
    const w = randNormal(y0.shape, seed);
    backward(sum(mul(y0, w)));
    const grads = await readAll(xs.map((x) => x.grad!));
    const loss = async (ins: Float32Array[]) =>
      await noGrad(() => {
        const ts = ins.map((d, i) => tensor(d, shapes[i]));
        return sum(mul(f(...ts), w));
      }).item();
    for (let k = 0; k < xs.length; k++) {
      const v = randArray(inputs[k].length, seed + 100 + k);
      const plus = inputs.map((d, i) => (i === k ? d.map((x, j) => x + eps * v[j]) : d));
      const minus = inputs.map((d, i) => (i === k ? d.map((x, j) => x - eps * v[j]) : d));
      const fd = ((await loss(plus)) - (await loss(minus))) / (2 * eps);
      let an = 0;
      for (let j = 0; j < v.length; j++) an += grads[k][j] * v[j];
      const scale = Math.max(1, Math.abs(fd), Math.abs(an));
      if (Math.abs(fd - an) > tol * scale) {
        assert.fail(`gradient of input ${k}: analytic ${an}, finite difference ${fd}`);
      }
    }
    for (const x of xs) x.grad?.dispose();
  });
}

export { assert, runtime };
