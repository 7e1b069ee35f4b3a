/**
 * The host's network interfaces: their names, hardware addresses and the IP
 * addresses they carry (the kernel keeps addresses in netlink, not in
 * /sys). What an iface spec that names an IP address or a network interface
 * is resolved against.
 */
import { Context, Data, type Effect, type Option } from "effect"

/** A network interface. */
export interface NetInterface {
  /** Its name (`eth0`, `dummy1`, `bond0.100`). */
  readonly name: string
  /** Its hardware address, lower case; none when it has no MAC (loopback, tunnels). */
  readonly hwaddress: Option.Option<string>
  /** The IP addresses it carries, as written (`10.99.1.1`, `fd00:99::1`), without prefix length or zone. */
  readonly addresses: ReadonlyArray<string>
}

/** Reading the network interfaces failed. */
export class NetworkError extends Data.TaggedError("NetworkError")<{
  readonly reason: { readonly _tag: "Failed"; readonly detail: string }
}> {
  override get message(): string {
    return `reading the network interfaces failed: ${this.reason.detail}`
  }
}

/** The host's network interfaces. */
export class Network extends Context.Service<Network, {
  /** Every network interface with its addresses. */
  readonly interfaces: Effect.Effect<ReadonlyArray<NetInterface>, NetworkError>
}>()("@brick/core/Network") {}
