/**
 * Size-bucketed pool of storage buffers. Freed buffers go back to the free list of their
 * bucket and are handed out again to any request of the same bucket, so a training loop
 * whose shapes repeat allocates nothing after its first step.
 * @module
 */

/** Usage of every pooled buffer: bound as storage, copied in and out. */
export const STORAGE_USAGE = 0x80 | 0x4 | 0x8; // STORAGE | COPY_SRC | COPY_DST

/**
 * Rounds a byte size up to its bucket: four buckets per power of two (…, 1024, 1280, 1536,
 * 1792, 2048, …), so at most 25 % of a buffer is slack. The minimum is 256 bytes.
 */
export function bucketSize(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  const step = p / 4;
  return Math.ceil(bytes / step) * step;
}

/** A pooled buffer with the id the bind-group cache keys on. */
export interface PooledBuffer {
  /** The WebGPU buffer. */
  readonly buffer: GPUBuffer;
  /** Its size in bytes (a bucket size). */
  readonly size: number;
  /** Unique id (bind groups are cached by buffer ids). */
  readonly id: number;
  /** Number of the command batch that last bound it (see Runtime). */
  lastBatch: number;
}

/** Byte counts reported by {@link BufferPool.stats}. */
export interface PoolStats {
  /** Bytes of buffers owned by live tensors. */
  liveBytes: number;
  /** Buffers owned by live tensors. */
  liveBuffers: number;
  /** Bytes of free buffers kept for reuse. */
  pooledBytes: number;
  /** Free buffers kept for reuse. */
  pooledBuffers: number;
}

/** The pool. One per device. */
export class BufferPool {
  #free = new Map<number, PooledBuffer[]>();
  #nextId = 1;
  #live = 0;
  #liveBytes = 0;
  #pooledBytes = 0;
  #pooled = 0;

  /** A pool on `device`; no buffer may exceed `maxBinding` bytes. */
  constructor(readonly device: GPUDevice, readonly maxBinding: number) {}

  /** A buffer of at least `bytes` bytes (contents undefined). */
  acquire(bytes: number, op = "alloc"): PooledBuffer {
    if (bytes > this.maxBinding) {
      throw new Error(
        `wgrec ${op}: a buffer of ${bytes} bytes exceeds this device's storage binding limit ` +
          `(${this.maxBinding} bytes)`,
      );
    }
    // Near the limit the bucket may round past it: take the limit itself (4-byte aligned).
    const size = Math.min(bucketSize(bytes), Math.floor(this.maxBinding / 4) * 4);
    const list = this.#free.get(size);
    let b = list?.pop();
    if (b) {
      this.#pooled--;
      this.#pooledBytes -= size;
    } else {
      const buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE });
      b = { buffer, size, id: this.#nextId++, lastBatch: -1 };
    }
    this.#live++;
    this.#liveBytes += size;
    return b;
  }

  /** Returns a buffer to its bucket. */
  release(b: PooledBuffer): void {
    this.#live--;
    this.#liveBytes -= b.size;
    let list = this.#free.get(b.size);
    if (!list) this.#free.set(b.size, list = []);
    list.push(b);
    this.#pooled++;
    this.#pooledBytes += b.size;
  }

  /** Destroys every pooled (free) buffer. Returns the ids destroyed. */
  trim(): number[] {
    const ids: number[] = [];
    for (const list of this.#free.values()) {
      for (const b of list) {
        ids.push(b.id);
        b.buffer.destroy();
      }
    }
    this.#free.clear();
    this.#pooled = 0;
    this.#pooledBytes = 0;
    return ids;
  }

  /** Live and pooled byte and buffer counts. */
  stats(): PoolStats {
    return {
      liveBytes: this.#liveBytes,
      liveBuffers: this.#live,
      pooledBytes: this.#pooledBytes,
      pooledBuffers: this.#pooled,
    };
  }
}
