/**
 * Launch shape shared by the row-wise kernels (softmax, layer norm): short rows get one
 * invocation each, long rows one workgroup each (reducing in workgroup memory).
 * @module
 */

import { groups } from "./common.ts";

/** Rows up to this length are handled by one invocation each, longer ones by a workgroup. */
const SMALL_ROW = 32;

/** Workgroups and the SMALL define for `rows` rows of length `n` (workgroup size 256). */
export function rowLaunch(rows: number, n: number): { workgroups: [number]; small: boolean } {
  const small = n <= SMALL_ROW;
  return { workgroups: small ? groups(rows) : [rows], small };
}
