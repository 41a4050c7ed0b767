/**
 * Launch shape shared by the row-wise kernels (softmax, layer norm): short rows get one
 * invocation each, long rows one workgroup each (reducing in workgroup memory).
 * @module
 */

import { groups } from "./common.ts";
import { runtime } from "../tensor.ts";
import { adapterClass } from "./matmul/select.ts";

/**
 * Rows up to this length are handled by one invocation each, longer ones by a workgroup. On
 * software adapters a workgroup's barriers are coroutine switches over its 256 invocations:
 * a row of 64 (a transformer's d) by workgroup cost 25× a row per invocation on lavapipe.
 */
const SMALL_ROW = { hardware: 32, software: 256 };

/** Workgroups and the SMALL define for `rows` rows of length `n` (workgroup size 256). */
export function rowLaunch(rows: number, n: number): { workgroups: [number]; small: boolean } {
  const small = n <= SMALL_ROW[adapterClass(runtime().gpu.adapter.description)];
  return { workgroups: small ? groups(rows) : [rows], small };
}
