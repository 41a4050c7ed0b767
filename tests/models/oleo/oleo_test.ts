// OLEO stage 2 against PyTorch (tests/models/oleo/fixtures/make_oleo.py): one NRMS and one
// LSTUR step — scores, loss, every gradient and the parameters after one Adam step — through
// the runner's impression task; plus the other encoders and paradigms train a step.
import { NewsRecommender, tensor } from "../../../internal.ts";
import { assert, assertClose, gpuTest } from "../../helpers.ts";
import { csr, stepAndAdam } from "./step_check.ts";

const fx = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/oleo_step.json", import.meta.url)),
);

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
    const stepped = await stepAndAdam(model, fx, c, kind);
    stepped.forEach(([n, after]) => {
      let got = Array.from(after), want: number[] = c.after[n];
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
