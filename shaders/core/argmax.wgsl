// Max (or min, MIN) of the middle axis of x viewed as [outer, red, inner] with its index:
// val[o, k] = x[o, r*, k], idx[o, k] = r*, r* the FIRST extremal index. NaN counts as larger
// (smaller) than every number, so it propagates, as in PyTorch. ROW (inner = 1): one workgroup
// per output, reducing (value, index) pairs in workgroup memory; else one invocation per output.
const NONE = 0xffffffffu;
var<workgroup> shv: array<f32, WG_X>;
var<workgroup> shi: array<u32, WG_X>;

fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }

// Whether candidate (v, i) beats the current best (bv, bi); NONE marks "no element".
fn wins(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  if (i == NONE) { return false; }
  if (bi == NONE) { return true; }
  let vn = is_nan(v);
  let bn = is_nan(bv);
  if (vn || bn) {
    if (vn && bn) { return i < bi; }
    return vn;
  }
  if (v == bv) { return i < bi; }
  if (MIN) { return v < bv; }
  return v > bv;
}

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  if (ROW) {
    let o = wid.x + wid.y * nwg.x;
    if (o >= u.outer) { return; }
    var bv = 0.0;
    var bi = NONE;
    for (var r = lid; r < u.red; r += WG_X) {
      let v = x[o * u.red + r];
      if (wins(v, r, bv, bi)) { bv = v; bi = r; }
    }
    shv[lid] = bv;
    shi[lid] = bi;
    workgroupBarrier();
    for (var s = WG_X / 2u; s > 0u; s = s / 2u) {
      if (lid < s && wins(shv[lid + s], shi[lid + s], shv[lid], shi[lid])) {
        shv[lid] = shv[lid + s];
        shi[lid] = shi[lid + s];
      }
      workgroupBarrier();
    }
    if (lid == 0u) {
      val[o] = shv[0];
      idx[o] = i32(shi[0]);
    }
  } else {
    let i = linear_id(wid, nwg, lid);
    if (i >= u.outer * u.inner) { return; }
    let o = i / u.inner;
    let k = i % u.inner;
    var bv = 0.0;
    var bi = NONE;
    for (var r = 0u; r < u.red; r++) {
      let v = x[(o * u.red + r) * u.inner + k];
      if (wins(v, r, bv, bi)) { bv = v; bi = r; }
    }
    val[i] = bv;
    idx[i] = i32(bi);
  }
}
