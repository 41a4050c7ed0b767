// OLEO stage 2 against PyTorch (tests/models/oleo/fixtures/make_oleo.py): one NRMS and one
// LSTUR step — scores, loss, every gradient and the parameters after one Adam step — through
// the runner's impression task; plus the other encoders and paradigms train a step.
import { Adam, backward, NewsRecommender, readAll, tensor, tidy } from "../../../internal.ts";
import { impressionTask } from "../../../src/train/impression.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/oleo_step.json", import.meta.url)),
);

function csr(lists: number[][]) {
  const ptr = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (ptr[i + 1] = ptr[i] + l.length));
  return { ptr, items: Int32Array.from(lists.flat()) };
}

const data = {
  name: "fixture",
  description: "",
  numUsers: fx.U,
  numItems: fx.N,
  train: [{ user: 0, items: Int32Array.from([0, 1]), labels: Uint8Array.from([1, 0]) }],
  valid: [],
  test: [],
};

for (const kind of ["nrms", "lstur"] as const) {
  gpuTest(`${kind.toUpperCase()} (oleo): one step matches PyTorch`, async () => {
    const c = fx[kind];
    const model = new NewsRecommender(
      {
        numUsers: fx.U,
        numItems: fx.N,
        history: csr(fx.hist),
        vectors: { data: Float32Array.from(fx.V), dim: fx.DV },
      },
      { userEncoder: kind, dim: fx.D, heads: 2, attentionHidden: 5, maxHistory: fx.LH, dropout: 0 },
    );
    const names = model.namedParameters().map(([n]) => n).sort();
    assert.deepEqual(names, Object.keys(c.init).sort());
    for (const [n, v] of Object.entries(c.init) as [string, number[]][]) {
      const src = tensor(Float32Array.from(v), model.getParameter(n).shape);
      model.setParameter(n, src);
      src.dispose();
    }
    const task = impressionTask(model, data, fx.K);
    const opt = new Adam(model.parameters(), { lr: 0.01 });
    const batch = {
      users: Int32Array.from(fx.users),
      items: Int32Array.from(fx.items),
      size: fx.B,
    };
    const [loss] = await readAll(tidy(() => {
      const { loss } = task.loss(batch);
      backward(loss);
      return [loss];
    }));
    assertClose(loss, [c.loss], { atol: 1e-5, rtol: 1e-4, msg: `${kind} loss` });
    const params = model.namedParameters();
    const grads = await readAll(params.map(([, p]) => p.grad!));
    params.forEach(([n], i) =>
      assertClose(grads[i], c.grads[n], { atol: 2e-5, rtol: 2e-3, msg: `${kind} grad ${n}` })
    );
    tidy(() => {
      opt.step();
      opt.zeroGrad();
    });
    const after = await readAll(params.map(([, p]) => p));
    params.forEach(([n], i) => {
      let got = Array.from(after[i]), want: number[] = c.after[n];
      if (n === "user.self_attn.in_proj_bias") {
        // The key bias adds the same amount to every score of a query: its gradient is 0 up
        // to rounding (checked above), and Adam's first step turns rounding noise into ±lr.
        const D = fx.D;
        const keep = (a: number[]) => [...a.slice(0, D), ...a.slice(2 * D)];
        [got, want] = [keep(got), keep(want)];
      }
      assertClose(got, want, { atol: 2e-5, rtol: 1e-4, msg: `${kind} after ${n}` });
    });
    model.dispose();
  });
}
