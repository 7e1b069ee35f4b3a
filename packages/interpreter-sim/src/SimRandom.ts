/**
 * The simulator's only source of randomness: a seeded mulberry32 PRNG, and a
 * string hash to derive stable values (WWNs, names) from the seed.
 */

/** A deterministic pseudo-random generator. */
export interface SimRandom {
  /** A float in [0, 1). */
  readonly next: () => number
  /** An integer in [0, n). */
  readonly int: (n: number) => number
  /** `n` lowercase hex digits. */
  readonly hex: (n: number) => string
}

/** mulberry32 seeded with `seed` (any 32-bit integer). */
export const make = (seed: number): SimRandom => {
  let a = seed >>> 0
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number): number => Math.floor(next() * n)
  const hex = (n: number): string => {
    let s = ""
    for (let i = 0; i < n; i++) s += "0123456789abcdef"[int(16)]
    return s
  }
  return { next, int, hex }
}

/** FNV-1a over the parts' text, finished with a murmur mix: a 32-bit value. */
export const hash = (...parts: ReadonlyArray<string | number>): number => {
  let h = 0x811c9dc5
  const text = parts.join("\u0000")
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** `n` hex digits derived only from `parts` (stable whatever else the host holds). */
export const derivedHex = (n: number, ...parts: ReadonlyArray<string | number>): string => make(hash(...parts)).hex(n)
