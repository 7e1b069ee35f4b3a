/** Shared scenario and helpers for the simulator's tests. */
import { HostPath, IfaceName, Iqn, Portal } from "@brick/core"
import type { Iscsiadm } from "@brick/core"
import { Effect, Exit, type Layer } from "effect"
import { TestClock } from "effect/testing"
import { SimHost } from "../src/index.ts"
import type { SimSpec } from "../src/SimSpec.ts"

export const iqn = "iqn.2010-10.org.openstack:volume-1"
export const p1 = "10.99.0.1:3260"
export const p2 = "10.99.0.2:3260"

/** One target with LUN 1 on two portals, everything instant. */
export const spec = (over: Partial<SimSpec> = {}): SimSpec => ({
  targets: [{ iqn, portals: [p1, p2], luns: [{ lun: 1, sizeBytes: 1 << 30 }, { lun: 2, sizeBytes: 2 << 30 }] }],
  latency: "zero",
  ...over
})

/** Cinder's connection_info data of LUN `lun` of `target` on every portal listed, the first as the single path. */
export const multipathData = (portals: ReadonlyArray<string> = [p1, p2], lun = 1, target = iqn) => ({
  target_portal: portals[0],
  target_iqn: target,
  target_lun: lun,
  target_portals: portals,
  target_iqns: portals.map(() => target),
  target_luns: portals.map(() => lun),
  volume_id: "vol-1"
})

export const node = (portal = p1, target = iqn, iface = "default"): Iscsiadm.NodeRecord => ({
  portal: Portal.unsafeMake(portal),
  iqn: Iqn.unsafeMake(target),
  iface: IfaceName.unsafeMake(iface)
})

export const path = HostPath.make

/** Runs an effect on the host's main layer under a TestClock. */
export const runTest = <A, E>(host: SimHost.SimHost, effect: Effect.Effect<A, E, SimHost.SimServices>): Promise<A> =>
  Effect.runPromise(effect.pipe(Effect.provide(host.layer), Effect.provide(TestClock.layer())))

/** Runs an effect and returns its Exit. */
export const runExit = <A, E>(
  host: SimHost.SimHost,
  effect: Effect.Effect<A, E, SimHost.SimServices>,
  layer?: Layer.Layer<SimHost.SimServices>
) => Effect.runPromise(Effect.exit(effect).pipe(Effect.provide(layer ?? host.layer), Effect.provide(TestClock.layer())))

/** The failure's reason tag of an Exit, if it failed with a tagged-reason error. */
export const reasonOf = (exit: Exit.Exit<unknown, unknown>): string | undefined => {
  if (Exit.isSuccess(exit)) return undefined
  const err = exit.cause.reasons.find((r) => r._tag === "Fail")
  const e = err && "error" in err ? (err.error as { reason?: { _tag: string } }) : undefined
  return e?.reason?._tag
}
