// SparCode index build, pass 2: writes the kept entries of each row of a chunk of the
// (code × item) score table into its posting list, in ascending item order:
//   items[ptr[row0 + r] + n] = j,  vals[...] = table[r, j]   for the n-th j with table > thr.
// One workgroup per row walks the items a tile of WG_X at a time; an inclusive scan of the
// keep flags in workgroup memory gives each kept entry its slot, so the result is
// deterministic (no atomics) and matches pass 1's counts exactly.
var<workgroup> flags: array<u32, WG_X>;

@compute @workgroup_size(WG_X)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let live = r < u.rows;
  var base = 0u;
  if (live) { base = u32(ptr[u.row0 + r]); }
  let tiles = (u.len + WG_X - 1u) / WG_X;
  for (var t = 0u; t < tiles; t++) {
    let j = t * WG_X + lid;
    var v = 0.0;
    var keep = 0u;
    if (live && (j < u.len)) {
      v = table[r * u.len + j];
      if (v > u.thr) { keep = 1u; }
    }
    flags[lid] = keep;
    workgroupBarrier();
    // Hillis–Steele inclusive scan.
    for (var s = 1u; s < WG_X; s = s * 2u) {
      var add = 0u;
      if (lid >= s) { add = flags[lid - s]; }
      workgroupBarrier();
      flags[lid] += add;
      workgroupBarrier();
    }
    if (keep == 1u) {
      let pos = base + flags[lid] - 1u;
      items[pos] = i32(j);
      vals[pos] = v;
    }
    base += flags[WG_X - 1u];
    workgroupBarrier();
  }
}
