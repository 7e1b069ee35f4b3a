/**
 * The soak's rounds, drawn from a seeded RNG (the same seed draws the same
 * rounds): which volumes get an operation (connect a detached volume,
 * disconnect or extend an attached one) and which faults strike: a portal
 * dropping packets, refusing connections (RST) or losing its listener, a
 * brick process SIGKILLed mid-operation, a LUN removed on the target.
 */

/** A volume of the soak: a LUN of a target, attached through its portals (all of them with multipath). */
export interface VolumeSpec {
  readonly name: string
  readonly iqn: string
  readonly lun: number
  readonly portals: ReadonlyArray<string>
  readonly multipath: boolean
}

export type Op = "connect" | "disconnect" | "extend"

export type PortalMode = "drop" | "reject" | "np"

export type Fault =
  /** `portal` goes down (lab-target portal-down --mode) `afterMs` into the round, up again at its end */
  | { readonly _tag: "portal"; readonly mode: PortalMode; readonly portal: string; readonly afterMs: number }
  /**
   * the brick process of volume `volume`'s operation is SIGKILLed `afterMs` after it logged its `afterLine`-th
   * line (mid-operation: its lock taken and a record written, a login started, …), if still running
   */
  | { readonly _tag: "kill"; readonly volume: number; readonly afterLine: number; readonly afterMs: number }
  /** volume `volume`'s LUN is removed on the target before the round's operations */
  | { readonly _tag: "lunRemoved"; readonly volume: number }

export type FaultKind = "drop" | "reject" | "np" | "kill" | "lunRemoved"
export const faultKinds: ReadonlyArray<FaultKind> = ["drop", "reject", "np", "kill", "lunRemoved"]
export const kindOf = (f: Fault): FaultKind => (f._tag === "portal" ? f.mode : f._tag)

export interface Round {
  readonly ops: ReadonlyArray<{ readonly volume: number; readonly op: Op }>
  readonly faults: ReadonlyArray<Fault>
}

/** A seeded RNG (mulberry32): a float in [0, 1) per call. */
export const rng = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
export type Random = ReturnType<typeof rng>

const pick = <A>(random: Random, xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
const between = (random: Random, lo: number, hi: number) => Math.round(lo + random() * (hi - lo))

/** The operation a volume gets this round, if any. */
const opFor = (random: Random, attached: boolean): Op | undefined => {
  const r = random()
  if (!attached) return r < 0.7 ? "connect" : undefined
  return r < 0.45 ? "disconnect" : r < 0.7 ? "extend" : undefined
}

/** A fault of kind `kind` on the round's operations (undefined when it does not fit them). */
const faultOf = (
  random: Random,
  kind: FaultKind,
  volumes: ReadonlyArray<VolumeSpec>,
  ops: ReadonlyArray<{ volume: number; op: Op }>,
  faults: ReadonlyArray<Fault>
): Fault | undefined => {
  if (kind === "kill") {
    return {
      _tag: "kill",
      volume: pick(random, ops).volume,
      afterLine: between(random, 1, 4),
      afterMs: between(random, 0, 800)
    }
  }
  if (kind === "lunRemoved") {
    // a LUN gone under a connect, or under the disconnect of its attached volume
    const candidates = ops.filter((o) => o.op !== "extend")
    if (candidates.length === 0 || faults.some((f) => f._tag === "lunRemoved")) return undefined
    return { _tag: "lunRemoved", volume: pick(random, candidates).volume }
  }
  const portal = pick(random, [...new Set(ops.flatMap((o) => volumes[o.volume]!.portals))])
  if (faults.some((f) => f._tag === "portal" && f.portal === portal)) return undefined
  return { _tag: "portal", mode: kind, portal, afterMs: between(random, 0, 3000) }
}

/**
 * One round: an operation on some volumes (at least one), a fault of kind
 * `first` when given, and random ones (none, one or two).
 */
export const drawRound = (
  random: Random,
  volumes: ReadonlyArray<VolumeSpec>,
  attached: ReadonlyArray<boolean>,
  first?: FaultKind
): Round => {
  const ops: Array<{ volume: number; op: Op }> = []
  volumes.forEach((_, volume) => {
    const op = opFor(random, attached[volume]!)
    if (op !== undefined) ops.push({ volume, op })
  })
  if (ops.length === 0 || (first === "lunRemoved" && ops.every((o) => o.op === "extend"))) {
    const volume = Math.floor(random() * volumes.length)
    ops.splice(0, ops.length, ...ops.filter((o) => o.volume !== volume))
    ops.push({ volume, op: attached[volume] ? "disconnect" : "connect" })
    ops.sort((a, b) => a.volume - b.volume)
  }
  const kinds = [
    ...(first === undefined ? [] : [first]),
    ...Array.from({ length: random() < 0.3 ? 0 : random() < 0.8 ? 1 : 2 }, () => pick(random, faultKinds))
  ]
  const faults: Array<Fault> = []
  for (const kind of kinds) {
    const fault = faultOf(random, kind, volumes, ops, faults)
    if (fault !== undefined) faults.push(fault)
  }
  return { ops, faults }
}
