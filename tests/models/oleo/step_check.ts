// Shared by the OLEO step checks against PyTorch (oleo_test.ts, scorer_test.ts): the fixture's
// one-impression dataset and one step of the runner's impression task — loss and every
// gradient checked, then one Adam step whose parameters the caller compares.
import { Adam, backward, type NewsRecommender, readAll, tidy } from "../../../internal.ts";
import { impressionTask } from "../../../src/train/impression.ts";
import { assertClose } from "../../helpers.ts";

/** A CSR of history lists. */
export function csr(lists: number[][]): { ptr: Int32Array; items: Int32Array } {
  const ptr = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => (ptr[i + 1] = ptr[i] + l.length));
  return { ptr, items: Int32Array.from(lists.flat()) };
}

/** The fixtures' dataset: one training impression (item 0 clicked, item 1 not). */
export function fixtureData(fx: { U: number; N: number }) {
  return {
    name: "fixture",
    description: "",
    numUsers: fx.U,
    numItems: fx.N,
    train: [{ user: 0, items: Int32Array.from([0, 1]), labels: Uint8Array.from([1, 0]) }],
    valid: [],
    test: [],
  };
}

/** Fixture fields the step needs. */
export interface StepFixture {
  U: number;
  N: number;
  K: number;
  B: number;
  users: number[];
  items: number[];
}

/**
 * One training step of `model` on the fixture batch: checks the loss and every gradient
 * against `want`, runs one Adam step (lr 0.01) and returns each parameter's name and values.
 */
export async function stepAndAdam(
  model: NewsRecommender,
  fx: StepFixture,
  want: { loss: number; grads: Record<string, number[]> },
  label: string,
): Promise<[string, Float32Array][]> {
  const task = impressionTask(model, fixtureData(fx), fx.K);
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const batch = { users: Int32Array.from(fx.users), items: Int32Array.from(fx.items), size: fx.B };
  const [loss] = await readAll(tidy(() => {
    const { loss } = task.loss(batch);
    backward(loss);
    return [loss];
  }));
  assertClose(loss, [want.loss], { atol: 1e-5, rtol: 1e-4, msg: `${label} loss` });
  const params = model.namedParameters();
  const grads = await readAll(params.map(([, p]) => p.grad!));
  params.forEach(([n], i) =>
    assertClose(grads[i], want.grads[n], { atol: 2e-5, rtol: 2e-3, msg: `${label} grad ${n}` })
  );
  tidy(() => {
    opt.step();
    opt.zeroGrad();
  });
  const after = await readAll(params.map(([, p]) => p));
  return params.map(([n], i) => [n, after[i] as Float32Array]);
}
