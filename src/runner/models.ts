/**
 * The registry index: one import per model folder's `register.ts` (see src/runner/registry.ts
 * for how a model registers). Importing this module registers every model.
 * @module
 */

import "../models/alignrec/register.ts";
import "../models/lightgcn/register.ts";
import "../models/vbpr/register.ts";
import "../models/lattice/register.ts";
import "../models/freedom/register.ts";
import "../models/bm3/register.ts";
import "../models/mgcn/register.ts";
import "../models/popularity/register.ts";
import "../models/sparcode/register.ts";
import "../models/uist/register.ts";
import "../models/rat/register.ts";
import "../models/ctrbase/register.ts";
import "../models/rar/register.ts";
import "../models/gist/register.ts";
import "../models/oleo/register.ts";
import "../models/pmg/register.ts";
import "../models/dgsct/register.ts";
import "../models/dcid/register.ts";
import "../models/musicpaw/register.ts";
import "../models/survey/register.ts";

export { getModel, listModels, modelSettings } from "./registry.ts";
