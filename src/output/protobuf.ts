// A minimal protobuf encoder: just what writing an ONNX model needs (varints,
// length-delimited bytes/strings/messages). Hand-written on purpose: the ONNX
// subset is six message types, and the npm alternatives either need the whole
// onnx.proto compiled at build time (protobufjs + pbjs codegen) or are
// unmaintained (onnx-proto, last published with protobufjs 6). The wire format
// is https://protobuf.dev/programming-guides/encoding/ :
//   field key = (field_number << 3) | wire_type;  0 = varint, 2 = length-delimited
const VARINT = 0;
const LEN = 2;

export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  /** Base-128 varint, least significant group first; non-negative integers up to 2^53. */
  private rawVarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf varint: ${value} is not a non-negative safe integer`);
    const out: number[] = [];
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32/int64/enum/bool field (non-negative values). */
  varint(field: number, value: number): this {
    this.key(field, VARINT);
    this.rawVarint(value);
    return this;
  }

  bytes(field: number, data: Uint8Array): this {
    this.key(field, LEN);
    this.rawVarint(data.length);
    this.push(data);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, new TextEncoder().encode(text));
  }

  message(field: number, sub: ProtoWriter): this {
    return this.bytes(field, sub.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
