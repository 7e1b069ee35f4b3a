/**
 * The Network service on a simulated host: its network interfaces
 * (`SimSpec.netdevs`) with their hardware and IP addresses
 * (`SimSpec.netdevAddresses`, else the defaults SimNetdevSpec describes).
 */
import { Network } from "@brick/core"
import { Effect, Layer, Option } from "effect"
import { run, type SimRuntime } from "./SimOps.ts"
import type { SimSpec } from "./SimSpec.ts"

/** A locally administered MAC derived from a name (FNV-1a), stable across runs. */
const macOf = (name: string): string => {
  let h = 0x811c9dc5
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0
  const bytes = [0x02, 0x99, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff]
  return bytes.map((b) => b.toString(16).padStart(2, "0")).join(":")
}

/** The host's network interfaces as `ip address` would list them. */
export const interfacesOf = (spec: SimSpec): ReadonlyArray<Network.NetInterface> => {
  const names = spec.netdevs ?? ["lo", "eth0"]
  const first = names.find((n) => n !== "lo")
  const local = [spec.localAddress?.ipv4 ?? "10.99.0.100", spec.localAddress?.ipv6 ?? "fd00::100"]
  return names.map((name) => {
    const given = spec.netdevAddresses?.[name]
    const hwaddress = given?.hwaddress ?? (name === "lo" ? undefined : macOf(name))
    const addresses = given?.addresses ?? (name === "lo" ? ["127.0.0.1", "::1"] : name === first ? local : [])
    return { name, hwaddress: Option.fromUndefinedOr(hwaddress?.toLowerCase()), addresses }
  })
}

/** The Network service of `rt`'s host (described by `spec`), as seen by `process`. */
export const layer = (rt: SimRuntime, spec: SimSpec, process = "main"): Layer.Layer<Network.Network> =>
  Layer.succeed(Network.Network)(Network.Network.of({
    interfaces: run(
      rt,
      process,
      "network.interfaces",
      [],
      (f) => new Network.NetworkError({ reason: { _tag: "Failed", detail: f.detail ?? f.reason } }),
      () => Effect.succeed(interfacesOf(spec))
    )
  }))
