/**
 * The Network service on a real host: `ip -json address show` (iproute2)
 * through the command runner, so a command prefix (`nsenter -t 1 -n`)
 * reads the host's network namespace rather than the container's. Each
 * interface's `ifname`, `address` (a MAC only for links that have one) and
 * `addr_info[].local`.
 */
import { IscsiHostPort, Network } from "@brick/core"
import { Effect, Layer, Option } from "effect"
import { CommandRunner } from "./CommandRunner.ts"

/** `ip -json address show` */
export const addressArgs: ReadonlyArray<string> = ["-json", "address", "show"]

interface IpLink {
  readonly ifname?: unknown
  readonly address?: unknown
  readonly addr_info?: unknown
}

/** The interfaces in `ip -json address show`'s output; undefined when it is not that JSON. */
export const parseInterfaces = (text: string): ReadonlyArray<Network.NetInterface> | undefined => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!Array.isArray(json)) return undefined
  return (json as ReadonlyArray<IpLink>).flatMap((link) => {
    if (typeof link.ifname !== "string") return []
    const infos = Array.isArray(link.addr_info) ? link.addr_info as ReadonlyArray<{ readonly local?: unknown }> : []
    const addresses = infos.flatMap((i) => (typeof i.local === "string" ? [i.local] : []))
    const hwaddress = typeof link.address === "string"
      ? IscsiHostPort.hwaddressOf(Option.some(link.address))
      : Option.none<string>()
    return [{ name: link.ifname, hwaddress, addresses }]
  })
}

/** Builds the service. */
export const make = Effect.gen(function*() {
  const runner = yield* CommandRunner
  const failed = (detail: string) => new Network.NetworkError({ reason: { _tag: "Failed", detail } })
  const interfaces = runner.run("ip", addressArgs).pipe(
    Effect.mapError((e) => failed(e.message)),
    Effect.flatMap((r) => {
      if (r.exitCode !== 0) return Effect.fail(failed(`${r.command}: exit ${r.exitCode}: ${r.stderr.trim()}`))
      const parsed = parseInterfaces(r.stdout)
      return parsed === undefined ? Effect.fail(failed(`${r.command}: not JSON`)) : Effect.succeed(parsed)
    }),
    Effect.withSpan("Network.interfaces")
  )
  return Network.Network.of({ interfaces })
})

/** Network on the real host. */
export const layer: Layer.Layer<Network.Network, never, CommandRunner> = Layer.effect(Network.Network, make)
