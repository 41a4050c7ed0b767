// Loaders fail loudly (issue 15, item 11) and survive hostile bytes: a fuzz test mutates real
// files from /work/shared/data (truncation, byte flips) and requires every outcome to be a
// clean parse with the right row count or an error naming the source, never a crash or hang.
import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import {
  atomicInteractions,
  CRITEO_COLUMNS,
  DataFormatError,
  parseAtomic,
  parseCsv,
  parseMMRecInter,
  parseMovieLensRatings,
} from "../../src/data/mod.ts";
import { loadMMRec } from "../../src/data/files.ts";
import { readNpy, writeNpy } from "../../src/io/npy.ts";
import { decodeSafetensors } from "../../src/io/safetensors.ts";

const DATA = new URL("../../../shared/data/", import.meta.url);
const has = (() => {
  try {
    Deno.statSync(new URL("ml-100k/ml-100k.inter", DATA));
    return true;
  } catch {
    return false;
  }
})();

// The first `n` lines of a real file (the fuzz works on a small prefix: fast, still real).
function head(path: string, n: number): string {
  const text = Deno.readTextFileSync(new URL(path, DATA));
  return text.split("\n").slice(0, n).join("\n") + "\n";
}

Deno.test("header-only interactions files are refused at load", () => {
  assert.throws(
    () => atomicInteractions(parseAtomic("user_id:token\titem_id:token\n", { source: "h.inter" })),
    /h\.inter: no interactions \(the file has only its header\)/,
  );
  assert.throws(
    () => parseMMRecInter("userID\titemID\tx_label\n", { source: "m.inter" }),
    /m\.inter: no interactions/,
  );
  assert.throws(() => parseMovieLensRatings("", { source: "u.data" }), /u\.data: no ratings/);
});

Deno.test("a CR-only file is refused with a short message naming the line break", () => {
  const rows = Array.from({ length: 5000 }, (_, i) => `${i}\t${i % 7}\t0`);
  const text = ["userID\titemID\tx_label", ...rows].join("\r");
  let msg = "";
  try {
    parseMMRecInter(text, { source: "cr.inter" });
  } catch (e) {
    msg = (e as Error).message;
  }
  assert.match(msg, /cr\.inter:1: carriage return \(CR\) inside the line.*CR-only line breaks/);
  assert.ok(msg.length < 400, `message of ${msg.length} characters`);
  // Any long quoted line is cut in a DataFormatError.
  assert.ok(new DataFormatError("x", 1, "y".repeat(10000)).message.length < 400);
});

Deno.test("MMRec features: fewer rows than items and NaN values name the .npy file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/t.inter`, "userID\titemID\tx_label\n0\t0\t0\n1\t2\t0\n");
    const feat = (rows: number, v = 0.5) =>
      writeNpy({ shape: [rows, 2], data: new Float32Array(rows * 2).fill(v) });
    await Deno.writeFile(`${dir}/image_feat.npy`, feat(2));
    await assert.rejects(
      loadMMRec(dir, "t"),
      /itemID 2 is not below the item count 2 \(the rows of .*image_feat\.npy: the feature file/,
    );
    const nan = feat(3);
    await Deno.writeFile(`${dir}/image_feat.npy`, nan);
    const a = readNpy(nan);
    (a.data as Float32Array)[3] = NaN;
    await Deno.writeFile(`${dir}/image_feat.npy`, writeNpy(a));
    await assert.rejects(
      loadMMRec(dir, "t"),
      /image_feat\.npy: value NaN at row 1, column 1 is not finite/,
    );
    await Deno.writeFile(`${dir}/image_feat.npy`, feat(3));
    const ok = await loadMMRec(dir, "t");
    assert.equal(ok.interactions.numItems, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// Non-empty lines after the header, counted independently of the parsers.
function dataLines(text: string): number {
  const lines = text.replace(/^\ufeff/, "").split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(1).filter((l) => l.replace(/\r$/, "").length > 0).length;
}

function mutate(bytes: Uint8Array, cut: number, flips: [number, number][]): Uint8Array {
  const out = bytes.slice(0, Math.max(0, Math.min(bytes.length, cut)));
  for (const [at, v] of flips) if (out.length) out[at % out.length] = v;
  return out;
}

const mutation = (len: number) =>
  fc.tuple(
    fc.oneof(fc.constant(len), fc.integer({ min: 0, max: len })),
    fc.array(
      fc.tuple(
        fc.nat(),
        fc.oneof(
          fc.integer({ min: 0, max: 255 }),
          fc.constantFrom(9, 10, 13, 34, 44, 58, 0xef, 0xbb, 0xbf),
        ),
      ),
      { maxLength: 6 },
    ),
  );

// A clean parse, or an Error whose message names the source: anything else fails the test.
function expectCleanOrClear(source: string, f: () => number | null, expected: number): void {
  const t0 = performance.now();
  let rows: number | null;
  try {
    rows = f();
  } catch (e) {
    assert.ok(e instanceof Error, `threw a non-Error: ${String(e)}`);
    assert.ok(
      !(e instanceof TypeError) && !(e instanceof RangeError && /call stack/.test(e.message)),
      `crashed: ${e.stack}`,
    );
    assert.ok(e.message.includes(source), `error does not name ${source}: ${e.message}`);
    assert.ok(e.message.length < 1000, `error of ${e.message.length} characters`);
    return;
  } finally {
    assert.ok(performance.now() - t0 < 2000, "parse took over 2 s");
  }
  if (rows !== null) assert.equal(rows, expected, "row count");
}

const dec = new TextDecoder();

Deno.test({
  name: "fuzz: truncated and byte-flipped real files parse cleanly or fail clearly",
  ignore: !has,
  fn: () => {
    const files: {
      name: string;
      text: string;
      parse: (t: string) => number | null;
      expect?: (t: string) => number;
    }[] = [
      {
        name: "ml-100k.inter",
        text: head("ml-100k/ml-100k.inter", 120),
        parse: (t) => {
          const table = parseAtomic(t, { source: "ml-100k.inter" });
          const n = table.numRows;
          atomicInteractions(table);
          return n;
        },
      },
      {
        name: "ml-100k.item",
        text: head("ml-100k/ml-100k.item", 80),
        parse: (t) => parseAtomic(t, { source: "ml-100k.item" }).numRows,
      },
      {
        name: "ml-100k.user",
        text: head("ml-100k/ml-100k.user", 80),
        parse: (t) => parseAtomic(t, { source: "ml-100k.user" }).numRows,
      },
      {
        name: "criteo_sample.txt",
        text: head("ctr-samples/criteo_sample.txt", 40),
        // Headerless: every non-empty line is a row (counted as data lines after a header).
        parse: (t) =>
          parseCsv(t, { source: "criteo_sample.txt", delimiter: "\t", header: CRITEO_COLUMNS })
            .rows.length,
        expect: (t) => dataLines("h\n" + t),
      },
      {
        name: "movielens.inter",
        text: "userID\titemID\tx_label\n" +
          head("ml-100k/ml-100k.inter", 100).split("\n").slice(1).filter((l) => l)
            .map((l, i) => `${l.split("\t")[0]}\t${l.split("\t")[1]}\t${i % 3}`).join("\n") +
          "\n",
        parse: (t) => parseMMRecInter(t, { source: "movielens.inter" }).interactions.users.length,
      },
    ];
    for (const f of files) {
      const bytes = new TextEncoder().encode(f.text);
      fc.assert(
        fc.property(mutation(bytes.length), ([cut, flips]) => {
          const text = dec.decode(mutate(bytes, cut, flips));
          expectCleanOrClear(f.name, () => f.parse(text), (f.expect ?? dataLines)(text));
        }),
        { numRuns: 150, seed: 15 },
      );
    }
  },
});

Deno.test("fuzz: truncated and byte-flipped .npy files read cleanly or fail clearly", () => {
  const real = Deno.readFileSync(new URL("../fixtures/io_f32.npy", import.meta.url));
  fc.assert(
    fc.property(mutation(real.length), ([cut, flips]) => {
      const b = mutate(real, cut, flips);
      expectCleanOrClear("feat.npy", () => {
        const a = readNpy(b, { source: "feat.npy" });
        const n = a.shape.reduce((x, y) => x * y, 1);
        assert.equal(a.data.length, n, "element count");
        return null;
      }, 0);
    }),
    { numRuns: 300, seed: 15 },
  );
});

Deno.test("fuzz: truncated and byte-flipped safetensors files decode cleanly or fail clearly", () => {
  const real = Deno.readFileSync(new URL("../fixtures/io_tensors.safetensors", import.meta.url));
  fc.assert(
    fc.property(mutation(real.length), ([cut, flips]) => {
      const b = mutate(real, cut, flips);
      expectCleanOrClear("w.safetensors", () => {
        const f = decodeSafetensors(b, "w.safetensors");
        for (const t of Object.values(f.tensors)) {
          assert.equal(t.data.length, t.shape.reduce((x, y) => x * y, 1), "element count");
        }
        return null;
      }, 0);
    }),
    { numRuns: 300, seed: 15 },
  );
});
