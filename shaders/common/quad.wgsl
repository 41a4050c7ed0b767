// A row of up to 8 4×4 tiles side by side (a row-quad of an output block, or the operand chunk
// of the block's columns), for the register-blocked kernels with RN tiles per row (matmul_regblock,
// vq_nearest_rb). Needs tile4.wgsl before it and an RN define (1..8).
struct Quad { t: array<mat4x4<f32>, 8> }

// q + at · b, tile by tile, over the first RN tiles.
fn quad_mma(q: Quad, at: mat4x4<f32>, b: Quad) -> Quad {
  var r = q;
  r.t[0] = mma(q.t[0], at, b.t[0]);
  if (RN > 1) { r.t[1] = mma(q.t[1], at, b.t[1]); }
  if (RN > 2) { r.t[2] = mma(q.t[2], at, b.t[2]); }
  if (RN > 3) { r.t[3] = mma(q.t[3], at, b.t[3]); }
  if (RN > 4) { r.t[4] = mma(q.t[4], at, b.t[4]); }
  if (RN > 5) { r.t[5] = mma(q.t[5], at, b.t[5]); }
  if (RN > 6) { r.t[6] = mma(q.t[6], at, b.t[6]); }
  if (RN > 7) { r.t[7] = mma(q.t[7], at, b.t[7]); }
  return r;
}
