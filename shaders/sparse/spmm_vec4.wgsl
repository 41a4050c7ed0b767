// CSR × dense, four columns per load: out[r, 4j..4j+3] = Σ_{e in row r} val[e] · x[col[e], 4j..],
// summed in entry order (deterministic, the same order as spmm.wgsl). Invocation (b, s, g)
// owns CV consecutive vec4 column groups of row r = order[s] (ORDERED) or r = s, so one
// col/val load feeds 4·CV products. Software adapters run SIMD lanes over neighbouring
// invocations and pay per lane for every storage load: CV = 16 with ORDERED rows (by length
// in groups of 8, groups spread over the dispatch: see balancedRowOrder) loads col/val once
// per row and keeps a lane's loop as long as its neighbours'; CV = 1 keeps neighbouring lanes
// on neighbouring columns of one row (coalesced on real GPUs). With nb > 1 blocks, invocation
// (b, s, g) sums only the row's entries [b·chunk, (b+1)·chunk) into block b of out (the host
// sums the blocks): software adapters stop an invocation's loops after 65,535 trips in all.
// COMPACT (with ORDERED) writes row order[s] at out row s: the product at a subset of rows.
// SENTINEL: a row's entries also end at the first column id −1 (a CSR with gaps, see
// col_subset.wgsl; no extra binding: kernels bind at most 8 storage buffers). ADD_ROWS (nb = 1):
// out[r] += add[pos[r]] where pos[r] ≥ 0, after the sum (an epilogue that saves a dispatch).
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  let ng = u.d4 / CV;
  if (t >= u.nb * u.m * ng) { return; }
  let b = t / (u.m * ng);
  let sg = t % (u.m * ng);
  let s = sg / ng;
  var r = s;
  if (ORDERED) { r = u32(order[s]); }
  let c = (sg % ng) * CV;
  let start = u32(row_ptr[r]);
  let end = u32(row_ptr[r + 1u]);
  var e0 = start;
  var e1 = end;
  if (u.nb > 1u) {
    e0 = min(end, start + b * u.chunk);
    e1 = min(end, e0 + u.chunk);
  }
  var acc: array<vec4<f32>, CV>;
  for (var e = e0; e < e1; e++) {
    let j = col[e];
    if (SENTINEL && j < 0) { break; }
    let w = val[e];
    let base = u32(j) * u.d4 + c;
    for (var k = 0u; k < CV; k++) { acc[k] += w * x[base + k]; }
  }
  if (ADD_ROWS) {
    let q = pos[r];
    if (q >= 0) {
      for (var k = 0u; k < CV; k++) { acc[k] += add[u32(q) * u.d4 + c + k]; }
    }
  }
  var o = b * u.m * u.d4 + r * u.d4 + c;
  if (COMPACT) { o = b * u.m * u.d4 + s * u.d4 + c; }
  for (var k = 0u; k < CV; k++) { out[o + k] = acc[k]; }
}
