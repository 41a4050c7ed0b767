/**
 * DCID / H-DCID / TOC (../shared/specs/dcid-toc.md): TOC's channel selection.
 * @module
 */

export { tocScores, tocSelect } from "./toc.ts";
export type { TocScores } from "./toc.ts";
