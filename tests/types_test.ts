// Compile-time checks: dtype misuse is a type error (`deno check` runs on tests/, and an
// unused @ts-expect-error is itself an error, so each line below must keep failing to compile).
import { exp, matmul, tensor } from "../internal.ts";
import { gpuTest } from "./helpers.ts";

gpuTest("dtype misuse fails to type-check (and throws at run time too)", async () => {
  const { assert } = await import("./helpers.ts");
  const ids = tensor([1, 2], [2], "i32");
  const x = tensor([1, 2]);
  // @ts-expect-error: exp takes an f32 tensor
  assert.throws(() => exp(ids), /wgrec exp: input \[2\] has dtype i32, expected f32/);
  // @ts-expect-error: matmul takes f32 operands
  assert.throws(() => matmul(x, ids), /wgrec matmul/);
  ids.dispose();
  x.dispose();
});
