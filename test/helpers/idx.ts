// IDX files for tests: the big-endian header (two zero bytes, the type byte,
// the number of dimensions, each dimension as u32) and then the data.

/** An IDX file of `dims` with type byte `type` (0x08: unsigned bytes), then `data`. */
export function idx(dims: readonly number[], data: ArrayLike<number>, type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, k) => view.setUint32(4 + 4 * k, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
