// Autograd semantics: accumulation order, shared subexpressions, grad(), noGrad, modules.
import {
  add,
  backward,
  exp,
  grad,
  keep,
  Linear,
  matmul,
  memory,
  MLP,
  mul,
  noGrad,
  sum,
  type Tensor,
  tensor,
  tidy,
} from "../../internal.ts";
import { assert, assertClose, gpuTest } from "../helpers.ts";

gpuTest("diamond graph: a gradient is accumulated from every path before propagating", async () => {
  const x = keep(tensor([1, 2, 3]));
  x.requiresGrad = true;
  tidy(() => {
    const e = exp(x); // used twice below
    backward(sum(add(mul(e, e), e))); // d/dx (e²+e) = 2e² + e
  });
  const ex = [1, 2, 3].map(Math.exp);
  assertClose(await x.grad!.read(), ex.map((e) => 2 * e * e + e), { rtol: 1e-5 });
  x.grad!.dispose();
  x.dispose();
});

gpuTest("a leaf used as both operands gets its own gradient", async () => {
  const x = keep(tensor([1, -2]));
  x.requiresGrad = true;
  tidy(() => backward(sum(add(x, x))));
  assert.deepEqual([...await x.grad!.read()], [2, 2]);
  x.grad!.dispose();
  x.dispose();
});

gpuTest("two backward calls accumulate into .grad", async () => {
  const w = keep(tensor([[1, 2], [3, 4]]));
  w.requiresGrad = true;
  const v = keep(tensor([[1], [1]]));
  for (let i = 0; i < 2; i++) tidy(() => backward(sum(matmul(w, v))));
  assert.deepEqual([...await w.grad!.read()], [2, 2, 2, 2]);
  w.grad!.dispose();
  w.dispose();
  v.dispose();
});

gpuTest("grad(f) returns the value and every argument's gradient", async () => {
  const f = (a: Tensor<"f32">, b: Tensor<"f32">) => sum(mul(a, b));
  const a = tensor([1, 2, 3]);
  const b = tensor([4, 5, 6]);
  const { value, grads } = grad(f)(a, b);
  assert.equal(await value.item(), 32);
  assert.deepEqual([...await grads[0].read()], [4, 5, 6]);
  assert.deepEqual([...await grads[1].read()], [1, 2, 3]);
  assert.equal(a.requiresGrad, false, "arguments are restored");
  for (const t of [value, ...grads, a, b]) t.dispose();
});

gpuTest("noGrad records nothing; backward without a parameter is an error", () => {
  const x = keep(tensor([1, 2]));
  x.requiresGrad = true;
  tidy(() => {
    const y = noGrad(() => exp(x));
    assert.equal(y.requiresGrad, false);
    assert.equal(y.node, null);
    assert.throws(() => backward(sum(y)), /wgrec backward: \[\] does not depend on any parameter/);
    assert.throws(() => backward(exp(x)), /root \[2\] is not a scalar/);
  });
  x.dispose();
});

gpuTest("modules list named parameters; dispose frees them", async () => {
  const before = memory().tensors;
  const m = new MLP([4, 3, 2]);
  assert.deepEqual(m.namedParameters().map(([n, p]) => `${n}:${p.shape}`), [
    "0.weight:3,4",
    "0.bias:3",
    "1.weight:2,3",
    "1.bias:2",
  ]);
  assert.equal(m.numParameters(), 12 + 3 + 6 + 2);
  const l = new Linear(2, 2, { bias: false, seed: 1 });
  tidy(() => l.setParameter("weight", tensor([[1, 0], [0, 1]])));
  const y = tidy(() => l.forward(tensor([[3, 4]])));
  assert.deepEqual([...await y.read()], [3, 4]);
  tidy(() =>
    assert.throws(
      () => l.setParameter("weight", tensor([1])),
      /setParameter: 'weight' is f32 \[2, 2\]/,
    )
  );
  y.dispose();
  m.dispose();
  l.dispose();
  assert.equal(memory().tensors, before);
});
