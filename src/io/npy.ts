/**
 * NumPy `.npy` files (format versions 1.0, 2.0 and 3.0), read and written at the byte level.
 *
 * Pure functions over `Uint8Array`: they run in browsers as well as in Deno. Only C-order,
 * little-endian arrays are supported; anything else fails with an error that says why.
 * @module
 */

/** The `.npy` element types this module reads and writes. */
export type NpyDType = "f4" | "f8" | "i1" | "u1" | "i2" | "u2" | "i4" | "u4" | "i8" | "u8" | "b1";

/** Typed array used for each {@link NpyDType}. */
export interface NpyArrayOf {
  /** float32 */
  f4: Float32Array;
  /** float64 */
  f8: Float64Array;
  /** int8 */
  i1: Int8Array;
  /** uint8 */
  u1: Uint8Array;
  /** int16 */
  i2: Int16Array;
  /** uint16 */
  u2: Uint16Array;
  /** int32 */
  i4: Int32Array;
  /** uint32 */
  u4: Uint32Array;
  /** int64 */
  i8: BigInt64Array;
  /** uint64 */
  u8: BigUint64Array;
  /** bool (one byte per element, 0 or 1) */
  b1: Uint8Array;
}

/** Any typed array an {@link NpyArray} can hold. */
export type NpyData = NpyArrayOf[NpyDType];

/** An n-dimensional array: dtype, shape (C order) and flat data. */
export interface NpyArray {
  /** Element type, as the `.npy` type code without the byte-order character. */
  dtype: NpyDType;
  /** Dimensions, outermost first; `[]` is a scalar. */
  shape: number[];
  /** Elements in C (row-major) order; `data.length` is the product of `shape`. */
  data: NpyData;
}

/** Options for {@link readNpy}. */
export interface ReadNpyOptions {
  /** Name used in error messages (a file path, say). Default `"<npy>"`. */
  source?: string;
  /** Convert float64 arrays to float32 (model features are float32 on the GPU). Default false. */
  float64ToFloat32?: boolean;
  /**
   * Convert int64/uint64 arrays to Int32Array, failing on any value outside the int32 range
   * (numpy writes int64 by default, but ids fit in 32 bits). Default false (BigInt arrays).
   */
  int64ToInt32?: boolean;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

const ELEMENT: Record<NpyDType, { size: number; ctor: new (n: number) => NpyData }> = {
  f4: { size: 4, ctor: Float32Array },
  f8: { size: 8, ctor: Float64Array },
  i1: { size: 1, ctor: Int8Array },
  u1: { size: 1, ctor: Uint8Array },
  i2: { size: 2, ctor: Int16Array },
  u2: { size: 2, ctor: Uint16Array },
  i4: { size: 4, ctor: Int32Array },
  u4: { size: 4, ctor: Uint32Array },
  i8: { size: 8, ctor: BigInt64Array },
  u8: { size: 8, ctor: BigUint64Array },
  b1: { size: 1, ctor: Uint8Array },
};

/** Number of elements of a shape (1 for a scalar). */
function product(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function fail(source: string, msg: string): never {
  throw new Error(`${source}: ${msg}`);
}

/**
 * Parse `.npy` bytes into an {@link NpyArray}.
 *
 * The returned data is a copy when the payload is not aligned for its element type, otherwise
 * a view sharing memory with `bytes`.
 * @throws Error naming the source for a bad magic string, unsupported version, big-endian or
 * Fortran-order data, an unknown dtype, a truncated payload or an out-of-range int64.
 */
export function readNpy(bytes: Uint8Array, options: ReadNpyOptions = {}): NpyArray {
  const source = options.source ?? "<npy>";
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    fail(source, "not a .npy file (expected the magic string \\x93NUMPY at byte 0)");
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail(source, "truncated .npy header");
    headerLen = dv.getUint32(8, true);
    headerStart = 12;
  } else {
    fail(source, `unsupported .npy format version ${major}.${bytes[7]} (expected 1.0, 2.0 or 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) fail(source, "truncated .npy header");
  // Version 1/2 headers are latin1, version 3 is utf-8; the fields we read are ASCII anyway.
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, dataStart),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    fail(source, `malformed .npy header (expected 'descr', 'fortran_order', 'shape'): ${header}`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map(
    (s) => {
      if (!/^\d+L?$/.test(s)) fail(source, `bad dimension '${s}' in .npy shape (${shapeText})`);
      return parseInt(s, 10);
    },
  );
  const dtype = parseDescr(descr, source);
  const n = product(shape);
  // A Fortran-order array with at most one non-unit dimension has the same bytes as C order.
  if (fortran === "True" && shape.filter((d) => d > 1).length > 1) {
    fail(
      source,
      `Fortran-order (column-major) arrays are not supported; save with np.ascontiguousarray (shape ${
        JSON.stringify(shape)
      })`,
    );
  }
  const { size, ctor } = ELEMENT[dtype];
  const byteLen = n * size;
  if (dataStart + byteLen > bytes.length) {
    fail(
      source,
      `truncated .npy data: shape ${
        JSON.stringify(shape)
      } of ${descr} needs ${byteLen} bytes, found ${bytes.length - dataStart}`,
    );
  }
  const offset = bytes.byteOffset + dataStart;
  let data: NpyData;
  if (offset % size === 0) {
    data = new (ctor as unknown as new (b: ArrayBufferLike, o: number, n: number) => NpyData)(
      bytes.buffer,
      offset,
      n,
    );
  } else {
    data = new ctor(n);
    new Uint8Array(data.buffer).set(bytes.subarray(dataStart, dataStart + byteLen));
  }
  if (dtype === "f8" && options.float64ToFloat32) {
    return { dtype: "f4", shape, data: Float32Array.from(data as Float64Array) };
  }
  if ((dtype === "i8" || dtype === "u8") && options.int64ToInt32) {
    return { dtype: "i4", shape, data: bigToInt32(data as BigInt64Array | BigUint64Array, source) };
  }
  return { dtype, shape, data };
}

function parseDescr(descr: string, source: string): NpyDType {
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  if (!m) fail(source, `unsupported .npy dtype '${descr}' (structured or string dtypes are not)`);
  const [, order, kind, bytes] = m;
  const code = (kind + bytes) as NpyDType;
  if (!(code in ELEMENT)) {
    fail(
      source,
      `unsupported .npy dtype '${descr}' (expected one of f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1)`,
    );
  }
  // '=' means native order; numpy writes it explicitly as '<' on little-endian machines.
  if (order === ">" && bytes !== "1") {
    fail(source, `big-endian .npy data ('${descr}') is not supported; use arr.astype('<${code}')`);
  }
  return code;
}

function bigToInt32(src: BigInt64Array | BigUint64Array, source: string): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v > 2147483647n || v < -2147483648n) {
      fail(source, `int64 value ${v} at flat index ${i} does not fit in int32`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** The `.npy` dtype of a typed array (Uint8Array maps to `u1`; pass `dtype` for `b1`). */
function dtypeOf(data: NpyData): NpyDType {
  if (data instanceof Float32Array) return "f4";
  if (data instanceof Float64Array) return "f8";
  if (data instanceof Int8Array) return "i1";
  if (data instanceof Uint8Array) return "u1";
  if (data instanceof Int16Array) return "i2";
  if (data instanceof Uint16Array) return "u2";
  if (data instanceof Int32Array) return "i4";
  if (data instanceof Uint32Array) return "u4";
  if (data instanceof BigInt64Array) return "i8";
  if (data instanceof BigUint64Array) return "u8";
  throw new Error(`writeNpy: unsupported data type ${Object.prototype.toString.call(data)}`);
}

/**
 * Serialise an array to `.npy` bytes (format 1.0, or 2.0 when the header needs it), C order,
 * little-endian, header padded so the data starts at a multiple of 64 bytes as numpy does.
 * `dtype` defaults to the one implied by the typed array; pass `"b1"` with a Uint8Array of 0/1
 * for a bool array.
 * @throws Error when `data.length` is not the product of `shape` or `dtype` does not match the data.
 */
export function writeNpy(
  array: { dtype?: NpyDType; shape: readonly number[]; data: NpyData },
): Uint8Array {
  const dtype = array.dtype ?? dtypeOf(array.data);
  const implied = dtypeOf(array.data);
  if (implied !== dtype && !(dtype === "b1" && implied === "u1")) {
    throw new Error(`writeNpy: dtype '${dtype}' does not match data of type '${implied}'`);
  }
  for (const d of array.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`writeNpy: bad shape ${JSON.stringify(array.shape)}`);
    }
  }
  const n = product(array.shape);
  if (n !== array.data.length) {
    throw new Error(
      `writeNpy: shape ${
        JSON.stringify(array.shape)
      } has ${n} elements but data has ${array.data.length}`,
    );
  }
  const descr = dtype === "b1" || dtype === "i1" || dtype === "u1" ? `|${dtype}` : `<${dtype}`;
  const shapeText = array.shape.length === 1
    ? `(${array.shape[0]},)`
    : `(${array.shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  if (dict.length + 1 + prefix > 65535) {
    version = 2;
    prefix = 12;
  }
  const pad = (64 - ((prefix + dict.length + 1) % 64)) % 64;
  dict += " ".repeat(pad) + "\n";
  const dataBytes = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(prefix + dict.length + dataBytes.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, dict.length, true);
  else dv.setUint32(8, dict.length, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out.set(dataBytes, prefix + dict.length);
  return out;
}
