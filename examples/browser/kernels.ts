/**
 * The kernel-check page (examples/browser/kernels.html): runs the cases of kernel_cases.ts on
 * this browser's WebGPU through the library bundle and shows, per case, the worst error
 * against the PyTorch / float64 values. It exposes `globalThis.wgrecKernels` (the cases, their
 * outputs and errors) for tests/browser_test.ts, which compares them with Deno's.
 * @module
 */

import { init } from "./entry.ts";
import {
  buildCases,
  type CaseOutputs,
  checkOutputs,
  type Fixtures,
  type KernelCase,
  runCase,
} from "./kernel_cases.ts";

/** What the page exposes as `globalThis.wgrecKernels`. */
export interface KernelPage {
  /** Adapter vendor / architecture / description. */
  adapter: string;
  /** The cases built from the fixtures this page fetched. */
  cases: KernelCase[];
  /** Outputs of each case here (empty for a case that threw). */
  outputs: CaseOutputs[];
  /** The error of each case that threw, else null. */
  errors: (string | null)[];
  /** Whether every case ran. */
  done: boolean;
}

const status = document.getElementById("status")!;
const table = document.getElementById("results") as HTMLTableElement;

async function main() {
  const rt = await init();
  const a = rt.gpu.adapter;
  const adapter = [a.vendor, a.architecture, a.description].filter((s) => s).join(" / ");
  const load = async (p: string) => {
    const r = await fetch(new URL(`../../tests/fixtures/${p}`, location.href));
    if (!r.ok) throw new Error(`fetching ${p}: HTTP ${r.status}`);
    return await r.json();
  };
  const fixtures: Fixtures = {
    coreOps: await load("core_ops.json"),
    attention: await load("attention_sdpa.json"),
    losses: await load("losses_golden.json"),
  };
  const cases = buildCases(fixtures);
  const page: KernelPage = { adapter, cases, outputs: [], errors: [], done: false };
  Object.assign(globalThis, { wgrecKernels: page });
  let failed = 0;
  for (const [i, c] of cases.entries()) {
    status.textContent = `adapter: ${adapter}; case ${i + 1} of ${cases.length}…`;
    let bad: string[];
    try {
      page.outputs.push(await runCase(c));
      page.errors.push(null);
      bad = checkOutputs(c, page.outputs[i], "");
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      page.outputs.push({});
      page.errors.push(msg);
      bad = [`threw: ${msg.split("\n")[0]}`];
      // Let the errors this case caused arrive and drop them, so the next case starts clean.
      for (let k = 0; k < 3; k++) await rt.sync().catch(() => {});
    }
    if (bad.length) failed++;
    const tr = table.tBodies[0].insertRow();
    tr.insertCell().textContent = c.name;
    tr.insertCell().textContent = Object.keys(c.expected).join(", ");
    tr.insertCell().textContent = bad.length ? bad.join("; ") : "ok";
    if (bad.length) tr.className = "bad";
  }
  page.done = true;
  status.textContent = `adapter: ${adapter}; ${cases.length - failed} of ${cases.length} ` +
    `cases within tolerance`;
  document.body.dataset.failed = String(failed);
}

main().catch((e) => {
  status.textContent = `error: ${e instanceof Error ? e.message : e}`;
  document.body.dataset.error = String(e);
});
