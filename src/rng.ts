// A small seeded PRNG whose whole state is four u32 words, so a checkpoint can
// save it and a resumed run continues the very same sequence.
// Generator: sfc32 (Chris Doty-Humphrey's Small Fast Chaotic PRNG, PractRand-clean),
// seeded through splitmix32 so that nearby seeds give unrelated streams.

/** Streams of one seed: separate so that, say, a change of the split does not shift the init. */
export const STREAM_INIT = 1;
export const STREAM_SPLIT = 2;
export const STREAM_SHUFFLE = 3;

export type RngState = [number, number, number, number];

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` and `stream` (any u32) pick the sequence; streams separate uses of one seed (init, split, shuffle). */
  constructor(seed: number, stream = 0) {
    this.a = splitmix32(seed >>> 0);
    this.b = splitmix32(this.a ^ (stream >>> 0));
    this.c = splitmix32(this.b + 0x6a09e667);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextU32(); // warm up: sfc32 mixes poorly for the first outputs
  }

  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  setState(s: RngState): void {
    [this.a, this.b, this.c, this.d] = s;
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), n <= 2^32, without modulo bias (Lemire's rejection). */
  int(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.nextU32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal by Box-Muller (one value per call; the pair's twin is dropped to keep the state simple). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** In-place Fisher-Yates shuffle of the first `n` entries. */
  shuffle(a: Uint32Array | Int32Array, n = a.length): void {
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
