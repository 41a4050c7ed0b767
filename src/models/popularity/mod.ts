/**
 * The most-popular baseline.
 * @module
 */

export { Popularity } from "./model.ts";
