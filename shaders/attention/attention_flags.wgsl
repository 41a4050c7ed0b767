// Attention options, bits of u.flags (workgroup-uniform branches; kept out of the pipeline key
// so that few pipelines need compiling), and row offsets: shared by every attention kernel.
fn causal() -> bool { return (u.flags & 1u) != 0u; }
fn has_bias() -> bool { return (u.flags & 2u) != 0u; }
fn has_lens() -> bool { return (u.flags & 4u) != 0u; }
fn dropout_on() -> bool { return (u.flags & 8u) != 0u; }
fn blhd() -> bool { return (u.flags & 16u) != 0u; } // layout [B, L, H, D], else [B, H, L, D]
fn need_dk() -> bool { return (u.flags & 32u) != 0u; } // key side: write dk
fn need_dv() -> bool { return (u.flags & 128u) != 0u; } // key side: write dv
fn write_ds() -> bool { return (u.flags & 64u) != 0u; } // query side: also write ds

// Offset of row i (of a sequence of length len) of head h in batch b, for row width w.
fn row_off(b: u32, h: u32, i: u32, len: u32, w: u32) -> u32 {
  if (blhd()) { return ((b * len + i) * u.heads + h) * w; }
  return ((b * u.heads + h) * len + i) * w;
}
