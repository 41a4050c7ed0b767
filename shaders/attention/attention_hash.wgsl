// lowbias32 (Chris Wellons): a cheap integer hash with good avalanche, for dropout masks; one
// value or four at a time (the same function).
fn hash(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}
fn hash4(x: vec4<u32>) -> vec4<u32> {
  var h = x;
  h ^= h >> vec4<u32>(16u);
  h *= vec4<u32>(0x7feb352du);
  h ^= h >> vec4<u32>(15u);
  h *= vec4<u32>(0x846ca68bu);
  h ^= h >> vec4<u32>(16u);
  return h;
}
