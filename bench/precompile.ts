/**
 * Cold first step with and without `precompile`: a 2-layer MLP's forward + backward (8
 * pipelines), in a fresh process each, with Mesa's shader cache off. `sync` compiles each
 * pipeline at its first dispatch; `async` first captures the step's pipelines
 * (`Runtime.capturePipelines`, nothing runs) and compiles them with
 * `createComputePipelineAsync`, all in flight at once, then runs the step.
 *
 * ```sh
 * MESA_SHADER_CACHE_DISABLE=true deno run -A bench/precompile.ts sync
 * MESA_SHADER_CACHE_DISABLE=true deno run -A bench/precompile.ts async
 * ```
 * @module
 */

import { backward, init, MLP, precompile, runtime, sum, tensor, tidy } from "../internal.ts";

const mode = Deno.args[0] === "async" ? "async" : "sync";
await init();
const rt = runtime();
const model = new MLP([24, 40, 8], "relu");
const x = tensor(new Float32Array(17 * 24).map((_, i) => Math.sin(i)), [17, 24]);
const step = () => tidy(() => backward(sum(model.forward(x))));

const t0 = performance.now();
let compiled = 0;
if (mode === "async") {
  compiled = await precompile(step);
  model.zeroGrad(); // the captured backward allocated (unwritten) gradients
}
const t1 = performance.now();
const before = rt.stats.pipelines;
step();
await rt.sync();
const t2 = performance.now();
step(); // warm: everything compiled and run once
await rt.sync();
const t3 = performance.now();
console.log(JSON.stringify({
  mode,
  precompiled: compiled,
  precompile_ms: Math.round(t1 - t0),
  compiled_in_step: rt.stats.pipelines - before,
  step_ms: Math.round(t2 - t1),
  total_ms: Math.round(t2 - t0),
  warm_step_ms: Math.round(t3 - t2),
}));
