/**
 * The most-popular baseline in the runner (`deno task train --model popularity`).
 * @module
 */

import { register } from "../../runner/registry.ts";
import { Popularity } from "./model.ts";

register({
  name: "popularity",
  title: "Popularity",
  task: "retrieval",
  about: "most-popular baseline: items ranked by training interaction count",
  data: "interactions",
  settings: {},
  build: ({ data }) => new Popularity(data.split.train),
});
