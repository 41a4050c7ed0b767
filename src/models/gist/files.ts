/**
 * GIST's file entry (Deno only: kept out of `mod.ts` so browser bundles never reach `Deno`).
 * @module
 */

import {
  type CrossDomainData,
  ml100kCrossDomainFromText,
  type Ml100kDomainOptions,
} from "./data.ts";

/** {@link ml100kCrossDomainFromText} from a RecBole folder with ml-100k.inter and .item. */
export async function ml100kCrossDomain(
  dir: string,
  o: Ml100kDomainOptions = {},
): Promise<CrossDomainData> {
  const [inter, item] = await Promise.all(
    ["inter", "item"].map((e) => Deno.readTextFile(`${dir}/ml-100k.${e}`)),
  );
  return ml100kCrossDomainFromText(inter, item, o);
}
