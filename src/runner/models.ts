/**
 * The registry index: one import per model folder's `register.ts` (see src/runner/registry.ts
 * for how a model registers). Importing this module registers every model.
 * @module
 */

import "../models/alignrec/register.ts";
import "../models/lightgcn/register.ts";
import "../models/vbpr/register.ts";
import "../models/popularity/register.ts";
import "../models/sparcode/register.ts";
import "../models/uist/register.ts";
import "../models/rat/register.ts";
import "../models/ctrbase/register.ts";
import "../models/rar/register.ts";

export { getModel, listModels, modelSettings } from "./registry.ts";
