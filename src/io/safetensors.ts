/**
 * The safetensors format (https://github.com/huggingface/safetensors), encoded and decoded at
 * the byte level: an 8-byte little-endian header length N, N bytes of JSON header, then the
 * tensor bytes. Each header entry is `{"dtype", "shape", "data_offsets": [begin, end]}` with
 * offsets relative to the start of the byte buffer; the optional `__metadata__` entry maps
 * strings to strings.
 *
 * Pure functions over `Uint8Array` (browser-safe). Tensor data is little-endian, which is the
 * byte order of typed arrays on every platform JavaScript runs on in practice.
 * @module
 */

/** Element types of the safetensors format supported here. */
export type SafetensorsDType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U64"
  | "U32"
  | "U16"
  | "U8"
  | "BOOL";

/**
 * Typed array for each dtype. F16 and BF16 are kept as raw 16-bit patterns (JavaScript has no
 * half-precision array everywhere); BOOL is one byte per element.
 */
export interface SafetensorsArrayOf {
  /** float64 */
  F64: Float64Array;
  /** float32 */
  F32: Float32Array;
  /** float16, raw bits */
  F16: Uint16Array;
  /** bfloat16, raw bits */
  BF16: Uint16Array;
  /** int64 */
  I64: BigInt64Array;
  /** int32 */
  I32: Int32Array;
  /** int16 */
  I16: Int16Array;
  /** int8 */
  I8: Int8Array;
  /** uint64 */
  U64: BigUint64Array;
  /** uint32 */
  U32: Uint32Array;
  /** uint16 */
  U16: Uint16Array;
  /** uint8 */
  U8: Uint8Array;
  /** bool */
  BOOL: Uint8Array;
}

/** One tensor: dtype, shape and flat C-order data. */
export interface SafetensorsTensor {
  /** Element type. */
  dtype: SafetensorsDType;
  /** Dimensions; `[]` is a scalar. */
  shape: number[];
  /** Elements in C order; the array type must match `dtype` (see {@link SafetensorsArrayOf}). */
  data: SafetensorsArrayOf[SafetensorsDType];
}

/** The decoded content of a safetensors file. */
export interface SafetensorsFile {
  /** Tensors by name, in the order of their data in the file. */
  tensors: Record<string, SafetensorsTensor>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

type Ctor = {
  new (n: number): SafetensorsArrayOf[SafetensorsDType];
  new (b: ArrayBufferLike, off: number, n: number): SafetensorsArrayOf[SafetensorsDType];
};

const DTYPES: Record<SafetensorsDType, { size: number; ctor: Ctor }> = {
  F64: { size: 8, ctor: Float64Array as unknown as Ctor },
  F32: { size: 4, ctor: Float32Array as unknown as Ctor },
  F16: { size: 2, ctor: Uint16Array as unknown as Ctor },
  BF16: { size: 2, ctor: Uint16Array as unknown as Ctor },
  I64: { size: 8, ctor: BigInt64Array as unknown as Ctor },
  I32: { size: 4, ctor: Int32Array as unknown as Ctor },
  I16: { size: 2, ctor: Int16Array as unknown as Ctor },
  I8: { size: 1, ctor: Int8Array as unknown as Ctor },
  U64: { size: 8, ctor: BigUint64Array as unknown as Ctor },
  U32: { size: 4, ctor: Uint32Array as unknown as Ctor },
  U16: { size: 2, ctor: Uint16Array as unknown as Ctor },
  U8: { size: 1, ctor: Uint8Array as unknown as Ctor },
  BOOL: { size: 1, ctor: Uint8Array as unknown as Ctor },
};

// The reference implementation refuses headers above 100 MB; so do we, to fail fast on garbage.
const MAX_HEADER = 100_000_000;

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Encode tensors (and optional string metadata) as safetensors bytes.
 *
 * Like the reference implementation, tensors are laid out by decreasing element size, then by
 * name, and the header is padded with spaces to a multiple of 8 bytes, so every tensor starts
 * at an offset aligned for its element type.
 * @throws Error when a name is `__metadata__` or empty, a shape is invalid, the data length
 * does not match the shape, or the array type does not match the dtype.
 */
export function encodeSafetensors(
  tensors: Record<string, SafetensorsTensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const names = Object.keys(tensors);
  for (const name of names) {
    if (name === "__metadata__" || name.length === 0) {
      throw new Error(`encodeSafetensors: invalid tensor name '${name}'`);
    }
    checkTensor(name, tensors[name]);
  }
  names.sort((a, b) =>
    DTYPES[tensors[b].dtype].size - DTYPES[tensors[a].dtype].size || (a < b ? -1 : a > b ? 1 : 0)
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== "string") {
        throw new Error(`encodeSafetensors: metadata value for '${k}' must be a string`);
      }
    }
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const name of names) {
    const t = tensors[name];
    const end = offset + t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

function checkTensor(name: string, t: SafetensorsTensor): void {
  const info = DTYPES[t.dtype];
  if (!info) throw new Error(`encodeSafetensors: tensor '${name}' has unknown dtype '${t.dtype}'`);
  if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(
      `encodeSafetensors: tensor '${name}' has invalid shape ${JSON.stringify(t.shape)}`,
    );
  }
  const expected = new info.ctor(0).constructor;
  if (t.data.constructor !== expected) {
    throw new Error(
      `encodeSafetensors: tensor '${name}' of dtype ${t.dtype} needs a ${expected.name}, got ${t.data.constructor.name}`,
    );
  }
  if (t.data.length !== numel(t.shape)) {
    throw new Error(
      `encodeSafetensors: tensor '${name}' has shape ${JSON.stringify(t.shape)} (${
        numel(t.shape)
      } elements) but ${t.data.length} data elements`,
    );
  }
}

/**
 * Decode safetensors bytes. Data arrays are views into `bytes` when aligned for their element
 * type and copies otherwise, so copy them before mutating `bytes`.
 * @param source name used in error messages (a file path, say)
 * @throws Error naming the source and tensor for a truncated file, a malformed header, an
 * unknown dtype, a size that does not match the shape, or offsets outside the buffer, overlapping
 * or leaving holes (the reference implementation rejects those too).
 */
export function decodeSafetensors(bytes: Uint8Array, source = "<safetensors>"): SafetensorsFile {
  const fail = (msg: string): never => {
    throw new Error(`${source}: ${msg}`);
  };
  if (bytes.length < 8) fail(`too short for a safetensors file (${bytes.length} bytes)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    fail(`header length ${n} exceeds the file (${bytes.length} bytes) or the 100 MB limit`);
  }
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)),
    );
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    fail("header must be a JSON object");
  }
  const dataStart = 8 + headerLen;
  const bufLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const entries: {
    name: string;
    dtype: SafetensorsDType;
    shape: number[];
    begin: number;
    end: number;
  }[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        fail("__metadata__ must be an object of strings");
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ value for '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) fail(`tensor '${name}': entry is not an object`);
    if (typeof e.dtype !== "string" || !(e.dtype in DTYPES)) {
      fail(`tensor '${name}': unsupported dtype ${JSON.stringify(e.dtype)}`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      fail(`tensor '${name}': invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (
      !Array.isArray(offs) || offs.length !== 2 || !offs.every((o) =>
        Number.isSafeInteger(o) && o >= 0
      ) ||
      offs[1] < offs[0]
    ) {
      fail(`tensor '${name}': invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const dtype = e.dtype as SafetensorsDType;
    const [begin, end] = offs as number[];
    const want = numel(shape as number[]) * DTYPES[dtype].size;
    if (end - begin !== want) {
      fail(
        `tensor '${name}': ${dtype} shape ${
          JSON.stringify(shape)
        } needs ${want} bytes but data_offsets span ${end - begin}`,
      );
    }
    if (end > bufLen) {
      fail(
        `tensor '${name}': data_offsets end ${end} beyond the data (${bufLen} bytes)`,
      );
    }
    entries.push({ name, dtype, shape: shape as number[], begin, end });
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      fail(
        `tensor '${e.name}': data_offsets start at ${e.begin}, expected ${expected} (overlap or hole)`,
      );
    }
    expected = e.end;
  }
  if (expected !== bufLen) fail(`${bufLen - expected} trailing bytes after the last tensor`);
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const e of entries) {
    const { size, ctor } = DTYPES[e.dtype];
    const count = (e.end - e.begin) / size;
    const abs = bytes.byteOffset + dataStart + e.begin;
    let data: SafetensorsArrayOf[SafetensorsDType];
    if (abs % size === 0) {
      data = new ctor(bytes.buffer, abs, count);
    } else {
      data = new ctor(count);
      new Uint8Array(data.buffer).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    }
    tensors[e.name] = { dtype: e.dtype, shape: e.shape, data };
  }
  return { tensors, metadata };
}
