// The gradient-rule table: every op kind has a rule (compile time: rules.ts is typed over every
// kind, and a table missing one fails to compile), and a recorded node carries its family's
// rule, so `backward` needs no global table.
import {
  add,
  gather,
  matmul,
  type OpKind,
  rules,
  type RuleTable,
  sum,
  tensor,
  tidy,
} from "../../internal.ts";
import { assert, gpuTest } from "../helpers.ts";

gpuTest("a recorded node carries the table's rule for its kind", () => {
  assert.ok(Object.keys(rules).length >= 25, `${Object.keys(rules).length} kinds`);
  tidy(() => {
    const w = tensor([1, 2, 3, 4], [2, 2]);
    w.requiresGrad = true;
    const outs = [add(w, w), matmul(w, w), sum(w), gather(w, tensor([1, 0], [2], "i32"))];
    for (const o of outs) assert.equal(o.node!.rule, rules[o.node!.kind], o.node!.kind);
  });
});

Deno.test("a rule table without a kind fails to compile", () => {
  const { unary: _, ...rest } = rules;
  // @ts-expect-error: 'unary' is missing
  const partial: RuleTable<OpKind> = rest;
  assert.ok(partial);
});
