/**
 * Datasets of the AlignRec demo (examples/demo.ts) and tests: the embedded synthetic data, an
 * MMRec-format folder, and MovieLens-100K with titles and genres as the content modalities.
 * They live in the runner (src/runner/data.ts); this file keeps the demo's names.
 * @module
 */

export {
  EMBEDDED,
  EMBEDDED_SMALL,
  embeddedData,
  ml100kData,
  mmrecData,
} from "../src/runner/data.ts";
export type { RetrievalData as DemoData } from "../src/runner/data.ts";
