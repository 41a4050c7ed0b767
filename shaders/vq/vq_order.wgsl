// The order of nearest-code candidates: (v1, i1) ranks before (v2, i2) with the smaller score,
// then the smaller index; an index −1 marks "none yet" and ranks last.
fn better(v1: f32, i1: i32, v2: f32, i2: i32) -> bool {
  if (i1 < 0) { return false; }
  if (i2 < 0) { return true; }
  return v1 < v2 || (v1 == v2 && i1 < i2);
}
