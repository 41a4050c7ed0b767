// CSR × dense, four columns per load: out[r, 4j..4j+3] = Σ_{e in row r} val[e] · x[col[e], 4j..],
// summed in entry order (deterministic, the same order as spmm.wgsl). Invocation (b, r, g)
// owns CV consecutive vec4 column groups of row r, so one col/val load feeds 4·CV products
// (software adapters: their SIMD lanes gain little from neighbouring columns); CV = 1 keeps
// neighbouring lanes on neighbouring columns of one row (coalesced on real GPUs). With
// nb > 1 blocks, invocation (b, r, g) sums only the row's entries [b·chunk, (b+1)·chunk) into
// block b of out (the host sums the blocks): software adapters stop loops after 65,535 trips.
@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let t = linear_id(wid, nwg, lid);
  let ng = u.d4 / CV;
  if (t >= u.nb * u.m * ng) { return; }
  let b = t / (u.m * ng);
  let rg = t % (u.m * ng);
  let r = rg / ng;
  let c = (rg % ng) * CV;
  let start = u32(row_ptr[r]);
  let end = u32(row_ptr[r + 1u]);
  var e0 = start;
  var e1 = end;
  if (u.nb > 1u) {
    e0 = min(end, start + b * u.chunk);
    e1 = min(end, e0 + u.chunk);
  }
  var a0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  for (var e = e0; e < e1; e++) {
    let w = val[e];
    let base = u32(col[e]) * u.d4 + c;
    a0 += w * x[base];
    if (CV > 1u) { a1 += w * x[base + 1u]; }
    if (CV > 2u) { a2 += w * x[base + 2u]; a3 += w * x[base + 3u]; }
  }
  let o = b * u.m * u.d4 + r * u.d4 + c;
  out[o] = a0;
  if (CV > 1u) { out[o + 1u] = a1; }
  if (CV > 2u) { out[o + 2u] = a2; out[o + 3u] = a3; }
}
