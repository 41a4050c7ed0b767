// Index guard (src/ops/index_check.ts): records an out-of-range id `v` read at position `pos`
// in the guard slot `u.slot` of `bad` (count, first position, min and max value). A kernel that
// lists this file in `lib` binds `bad: "atomic<i32> rw"` and has a `slot: "u32"` uniform.
fn flag_bad(pos: u32, v: i32) {
  let b = u.slot * 4u;
  atomicAdd(&bad[b], 1);
  atomicMin(&bad[b + 1u], i32(pos));
  atomicMin(&bad[b + 2u], v);
  atomicMax(&bad[b + 3u], v);
}
