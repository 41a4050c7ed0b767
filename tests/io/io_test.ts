import assert from "node:assert/strict";
import fc from "npm:fast-check@3";
import { type NpyArray, type NpyDType, readNpy, writeNpy } from "../../src/io/npy.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type SafetensorsDType,
  type SafetensorsTensor,
} from "../../src/io/safetensors.ts";
import {
  readNpyFile,
  readSafetensorsFile,
  writeNpyFile,
  writeSafetensorsFile,
} from "../../src/io/files.ts";

const FIX = new URL("../fixtures/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIX));
const expected = JSON.parse(Deno.readTextFileSync(new URL("io_expected.json", FIX)));

function plain(data: ArrayLike<number | bigint>): number[] {
  return Array.from(data, (v) => Number(v));
}

// ---- .npy ------------------------------------------------------------------------------------

Deno.test("readNpy reads every numpy-written fixture with the expected dtype, shape and values", () => {
  const codes: Record<string, NpyDType> = {
    "<f4": "f4",
    "<f8": "f8",
    "<i8": "i8",
    "<i4": "i4",
    "|u1": "u1",
    "|b1": "b1",
  };
  for (
    const [name, e] of Object.entries(expected.npy) as [
      string,
      { dtype: string; shape: number[]; data: number[] },
    ][]
  ) {
    if (name === "io_fortran.npy") continue;
    const a = readNpy(fixture(name), { source: name });
    assert.equal(a.dtype, codes[e.dtype], name);
    assert.deepEqual(a.shape, e.shape, name);
    assert.deepEqual(plain(a.data), e.data, name);
  }
});

Deno.test("readNpy converts float64 → float32 and int64 → int32 on request", () => {
  const f = readNpy(fixture("io_f64.npy"), { float64ToFloat32: true });
  assert.equal(f.dtype, "f4");
  assert.ok(f.data instanceof Float32Array);
  assert.deepEqual(plain(f.data), plain(Float32Array.from(expected.npy["io_f64.npy"].data)));
  const i = readNpy(fixture("io_i64.npy"), { int64ToInt32: true });
  assert.equal(i.dtype, "i4");
  assert.deepEqual(plain(i.data), [0, -1, 2147483647, -2147483648, 7]);
  assert.throws(
    () => readNpy(fixture("io_i64_big.npy"), { int64ToInt32: true, source: "big.npy" }),
    /big\.npy: int64 value 1099511627776 at flat index 1 does not fit in int32/,
  );
});

Deno.test("readNpy rejects Fortran order, bad magic, truncation and big-endian data clearly", () => {
  assert.throws(
    () => readNpy(fixture("io_fortran.npy"), { source: "f.npy" }),
    /f\.npy: Fortran-order/,
  );
  assert.throws(() => readNpy(new Uint8Array(20), { source: "z.npy" }), /z\.npy: not a \.npy file/);
  const good = fixture("io_f32.npy");
  assert.throws(() => readNpy(good.subarray(0, good.length - 4)), /truncated \.npy data/);
  const be = writeNpy({ shape: [2], data: new Float32Array([1, 2]) });
  const at = new TextDecoder().decode(be.subarray(10, 64)).indexOf("<f4") + 10;
  be[at] = ">".charCodeAt(0);
  assert.throws(() => readNpy(be), /big-endian/);
});

Deno.test("writeNpy output is byte-identical to numpy's np.save", () => {
  for (
    const name of [
      "io_f32.npy",
      "io_f64.npy",
      "io_i64.npy",
      "io_i32.npy",
      "io_u8.npy",
      "io_scalar.npy",
      "io_empty.npy",
    ]
  ) {
    const a = readNpy(fixture(name));
    assert.deepEqual(writeNpy(a), fixture(name), name);
  }
  const b = readNpy(fixture("io_bool.npy"));
  assert.deepEqual(writeNpy({ dtype: "b1", shape: b.shape, data: b.data }), fixture("io_bool.npy"));
});

Deno.test("writeNpy validates shape and dtype", () => {
  assert.throws(
    () => writeNpy({ shape: [2, 2], data: new Float32Array(3) }),
    /has 4 elements but data has 3/,
  );
  assert.throws(
    () => writeNpy({ dtype: "i4", shape: [1], data: new Float32Array(1) }),
    /does not match/,
  );
});

Deno.test("readNpy copies unaligned payloads instead of failing", () => {
  const bytes = fixture("io_f32.npy");
  const shifted = new Uint8Array(bytes.length + 1);
  shifted.set(bytes, 1);
  const a = readNpy(shifted.subarray(1));
  assert.deepEqual(plain(a.data), expected.npy["io_f32.npy"].data);
});

const NPY_TYPES: { dtype: NpyDType; make: (n: number, r: () => number) => NpyArray["data"] }[] = [
  { dtype: "f4", make: (n, r) => Float32Array.from({ length: n }, () => r() * 1e3 - 500) },
  { dtype: "f8", make: (n, r) => Float64Array.from({ length: n }, () => r() * 1e9 - 5e8) },
  {
    dtype: "i4",
    make: (n, r) => Int32Array.from({ length: n }, () => Math.floor(r() * 4e9 - 2e9)),
  },
  {
    dtype: "i8",
    make: (n, r) =>
      BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 2 ** 52)) - 2n ** 51n),
  },
  { dtype: "u1", make: (n, r) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) },
  {
    dtype: "i2",
    make: (n, r) => Int16Array.from({ length: n }, () => Math.floor(r() * 65536) - 32768),
  },
  { dtype: "u4", make: (n, r) => Uint32Array.from({ length: n }, () => Math.floor(r() * 2 ** 32)) },
];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

Deno.test("property: npy write/read round-trips random shapes and dtypes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 0, maxLength: 4 }),
      fc.integer({ min: 0, max: NPY_TYPES.length - 1 }),
      fc.integer(),
      (shape, t, seed) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = NPY_TYPES[t].make(n, lcg(seed));
        const bytes = writeNpy({ shape, data });
        assert.equal((bytes[8] | (bytes[9] << 8)) + 10, bytes.length - data.byteLength); // header size
        assert.equal((bytes.length - data.byteLength) % 64, 0);
        const back = readNpy(bytes);
        assert.equal(back.dtype, NPY_TYPES[t].dtype);
        assert.deepEqual(back.shape, shape);
        assert.deepEqual(back.data, data);
      },
    ),
    { numRuns: 150 },
  );
});

// ---- safetensors ------------------------------------------------------------------------------

Deno.test("decodeSafetensors reads the Python-written fixture", () => {
  const f = decodeSafetensors(fixture("io_tensors.safetensors"), "io_tensors.safetensors");
  assert.deepEqual(f.metadata, expected.metadata);
  const e = expected.safetensors as Record<
    string,
    { dtype: string; shape: number[]; data: number[] }
  >;
  assert.deepEqual(Object.keys(f.tensors).sort(), Object.keys(e).sort());
  for (const [name, t] of Object.entries(f.tensors)) {
    assert.equal(t.dtype, e[name].dtype, name);
    assert.deepEqual(t.shape, e[name].shape, name);
    assert.deepEqual(plain(t.data), e[name].data, name);
  }
  assert.ok(f.tensors.ids.data instanceof BigInt64Array);
  assert.equal(f.tensors.ids.data[2], 2n ** 40n);
});

Deno.test("encodeSafetensors reproduces the Python-written bytes exactly", () => {
  const bytes = fixture("io_tensors.safetensors");
  const f = decodeSafetensors(bytes);
  assert.deepEqual(encodeSafetensors(f.tensors, f.metadata), bytes);
});

Deno.test("encodeSafetensors aligns every tensor and pads the header with spaces", () => {
  const bytes = encodeSafetensors({
    a: { dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) },
    b: { dtype: "F64", shape: [1], data: new Float64Array([Math.PI]) },
    c: { dtype: "I32", shape: [2], data: new Int32Array([-1, 1]) },
  });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.b.data_offsets, [0, 8]);
  assert.deepEqual(header.c.data_offsets, [8, 16]);
  assert.deepEqual(header.a.data_offsets, [16, 19]);
  assert.equal(header.__metadata__, undefined);
  const back = decodeSafetensors(bytes);
  assert.equal(back.tensors.b.data[0], Math.PI);
});

Deno.test("safetensors errors name the problem", () => {
  const t = { w: { dtype: "F32" as const, shape: [2], data: new Float32Array(2) } };
  assert.throws(
    () => encodeSafetensors({ w: { ...t.w, shape: [3] } }),
    /shape \[3\] \(3 elements\) but 2 data elements/,
  );
  assert.throws(
    () => encodeSafetensors({ w: { dtype: "I32", shape: [2], data: new Float32Array(2) } }),
    /needs a Int32Array, got Float32Array/,
  );
  assert.throws(() => encodeSafetensors({ __metadata__: t.w }), /invalid tensor name/);
  const good = encodeSafetensors(t);
  assert.throws(() => decodeSafetensors(good.subarray(0, 5), "x.st"), /x\.st: too short/);
  assert.throws(
    () => decodeSafetensors(good.subarray(0, good.length - 1), "x.st"),
    /beyond the data/,
  );
  const extra = new Uint8Array(good.length + 4);
  extra.set(good);
  assert.throws(() => decodeSafetensors(extra), /4 trailing bytes/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => decodeSafetensors(huge), /header length .* exceeds/);
  // Two tensors claiming the same bytes.
  const hdr = JSON.stringify({
    a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
    b: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
  });
  const ov = new Uint8Array(8 + hdr.length + 4);
  new DataView(ov.buffer).setBigUint64(0, BigInt(hdr.length), true);
  ov.set(new TextEncoder().encode(hdr), 8);
  assert.throws(() => decodeSafetensors(ov), /overlap or hole/);
  const bad = JSON.stringify({ a: { dtype: "F8", shape: [1], data_offsets: [0, 1] } });
  const bb = new Uint8Array(8 + bad.length + 1);
  new DataView(bb.buffer).setBigUint64(0, BigInt(bad.length), true);
  bb.set(new TextEncoder().encode(bad), 8);
  assert.throws(() => decodeSafetensors(bb), /tensor 'a': unsupported dtype "F8"/);
});

const ST_TYPES: {
  dtype: SafetensorsDType;
  make: (n: number, r: () => number) => SafetensorsTensor["data"];
}[] = [
  { dtype: "F32", make: (n, r) => Float32Array.from({ length: n }, () => r() - 0.5) },
  { dtype: "F64", make: (n, r) => Float64Array.from({ length: n }, () => r() * 1e6) },
  { dtype: "F16", make: (n, r) => Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)) },
  { dtype: "BF16", make: (n, r) => Uint16Array.from({ length: n }, () => Math.floor(r() * 65536)) },
  {
    dtype: "I64",
    make: (n, r) => BigInt64Array.from({ length: n }, () => BigInt(Math.floor(r() * 1e15)) - 5n),
  },
  { dtype: "I32", make: (n, r) => Int32Array.from({ length: n }, () => Math.floor(r() * 1e9)) },
  { dtype: "I8", make: (n, r) => Int8Array.from({ length: n }, () => Math.floor(r() * 256) - 128) },
  { dtype: "U8", make: (n, r) => Uint8Array.from({ length: n }, () => Math.floor(r() * 256)) },
  { dtype: "BOOL", make: (n, r) => Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)) },
];

Deno.test("property: safetensors encode/decode round-trips random tensors and metadata", () => {
  const tensorArb = fc.record({
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    t: fc.integer({ min: 0, max: ST_TYPES.length - 1 }),
    seed: fc.integer(),
  });
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string({ minLength: 1, maxLength: 8 }).filter((s) => s !== "__metadata__"),
        tensorArb,
        {
          maxKeys: 5,
        },
      ),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      (specs, metadata) => {
        const tensors: Record<string, SafetensorsTensor> = {};
        for (const [name, s] of Object.entries(specs)) {
          const n = s.shape.reduce((a, b) => a * b, 1);
          tensors[name] = {
            dtype: ST_TYPES[s.t].dtype,
            shape: s.shape,
            data: ST_TYPES[s.t].make(n, lcg(s.seed)),
          };
        }
        const bytes = encodeSafetensors(tensors, metadata);
        const back = decodeSafetensors(bytes);
        assert.deepEqual(back.metadata, metadata);
        assert.deepEqual(Object.keys(back.tensors).sort(), Object.keys(tensors).sort());
        for (const [name, t] of Object.entries(tensors)) {
          const b = back.tensors[name];
          assert.equal(b.dtype, t.dtype);
          assert.deepEqual(b.shape, t.shape);
          assert.deepEqual(plain(b.data), plain(t.data));
          // Views into the file must be aligned for their element type.
          assert.equal(b.data.byteOffset % b.data.BYTES_PER_ELEMENT, 0);
        }
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("Deno file wrappers write and read npy and safetensors files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeNpyFile(`${dir}/a.npy`, { shape: [2, 2], data: new Int32Array([1, 2, 3, 4]) });
    const a = await readNpyFile(`${dir}/a.npy`);
    assert.deepEqual(a.shape, [2, 2]);
    assert.deepEqual(plain(a.data), [1, 2, 3, 4]);
    await writeSafetensorsFile(`${dir}/m.safetensors`, {
      w: { dtype: "F32", shape: [1], data: new Float32Array([2]) },
    }, {
      step: "3",
    });
    const m = await readSafetensorsFile(`${dir}/m.safetensors`);
    assert.equal(m.metadata.step, "3");
    assert.equal(m.tensors.w.data[0], 2);
    await Deno.writeFile(`${dir}/bad.npy`, new Uint8Array(4));
    await assert.rejects(
      () => readNpyFile(`${dir}/bad.npy`),
      new RegExp(`${dir}/bad\\.npy: not a \\.npy file`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
