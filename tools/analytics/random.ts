/** A seeded pseudo-random generator (sfc32), so that the same `--seed` always writes the same data. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    // splitmix32 spreads a small seed over the four words of state.
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    [this.a, this.b, this.c, this.d] = [next(), next(), next(), next()];
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** Pareto with minimum 1: P(X > x) = x^-alpha. */
  pareto(alpha: number): number {
    return (1 - this.next()) ** (-1 / alpha);
  }

  /** exp(N(0, sigma²)), by Box–Muller. */
  logNormal(sigma: number): number {
    const normal = Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
    return Math.exp(sigma * normal);
  }
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hex32(word: number): string {
  return HEX[word >>> 24]! + HEX[(word >>> 16) & 255]! + HEX[(word >>> 8) & 255]! + HEX[word & 255]!;
}

/** A version 4 UUID, as clients make event ids, drawn from `random`. */
export function uuidV4(random: Random): string {
  const [a, b, c, d] = [random.uint32(), random.uint32(), random.uint32(), random.uint32()];
  const h = hex32(a) + hex32((b & 0xffff0fff) | 0x4000) + hex32((c & 0x3fffffff) | 0x80000000) + hex32(d);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A version 7 UUID (time-ordered), as the app makes user ids, for the instant `ms`. */
export function uuidV7(random: Random, ms: number): string {
  const time = Math.floor(ms).toString(16).padStart(12, '0');
  const version = hex32((random.uint32() & 0x0fffffff) | 0x70000000).slice(0, 4);
  const variant = hex32((random.uint32() & 0x3fffffff) | 0x80000000).slice(0, 4);
  const rest = hex32(random.uint32()) + hex32(random.uint32()).slice(0, 4);
  return `${time.slice(0, 8)}-${time.slice(8)}-${version}-${variant}-${rest}`;
}
