// Numerics-check mode: out[0] = NaN when index-guard slot u.slot has counted a bad index, so the
// numerics scan of `out` names the op that met it (see src/ops/index_check.ts).
@compute @workgroup_size(WG_X)
fn main() {
  out[0] = select(0.0, bitcast<f32>(0x7fc00000u), bad[u.slot * 4u] > 0);
}
