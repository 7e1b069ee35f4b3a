/**
 * The iface facts read off the host (IfaceChoice.IfaceFacts): the iface
 * records (`iscsiadm -m iface`), the loaded transports
 * (/sys/class/iscsi_transport), the iSCSI host ports (/sys/class/iscsi_host,
 * with each SCSI host's driver and the PCI function above it, and the kernel
 * ifaces' addresses) and the RDMA devices (/sys/class/infiniband).
 *
 * `read` reads what a connect's plan needs and no more: nothing for
 * `default`; the records for any other iface; the transports and the
 * offload HBAs' ports for an offload one (or a spec that leaves the
 * transport to the host); the RDMA devices for iSER; the network interfaces
 * (`Network`) for a spec that names one, or an IP or hardware address to
 * find one by. Offload
 * ports are found without reading every host: software hosts (iscsi_tcp,
 * iscsi_iser: one per session) have no parent device, so the kernel puts
 * them under /sys/devices/platform; the others are read.
 */
import { Effect, Option } from "effect"
import { type ConnectError, connectHostError } from "../BrickError.ts"
import type { HostPath } from "../HostPath.ts"
import * as IscsiLayout from "../internal/iscsi/IscsiLayout.ts"
import * as Layout from "../internal/SysfsLayout.ts"
import { Network, type NetworkError } from "../Network.ts"
import { Sysfs, type SysfsError } from "../Sysfs.ts"
import type { ConnectorOptions } from "./ConnectorOptions.ts"
import { type IfaceFacts, noFacts } from "./HostBinding.ts"
import { defaultIface, iserIface } from "./IfaceName.ts"
import { Iscsiadm, type IscsiadmError } from "./Iscsiadm.ts"
import * as IscsiHostPort from "./IscsiHostPort.ts"
import { isOffload, isTransport } from "./Transport.ts"

type Q<A> = Effect.Effect<A, SysfsError, Sysfs>

const readFile = (path: HostPath) => Sysfs.use((s) => s.read(path))
const list = (path: HostPath) => Sysfs.use((s) => s.list(path))

/** The loaded transports' names. */
export const loadedTransports: Q<ReadonlyArray<string>> = list(IscsiLayout.transportsDir)

/** The RDMA devices' names. */
export const rdmaDevices: Q<ReadonlyArray<string>> = list(IscsiLayout.rdmaDevicesDir)

const hostNumbers = (names: ReadonlyArray<string>): ReadonlyArray<number> =>
  names.flatMap((n) => {
    const h = IscsiLayout.parseHostName(n)
    return h === undefined ? [] : [h]
  })

/** One iSCSI host port, as sysfs shows it; `kernelIfaces` are the names in /sys/class/iscsi_iface. */
const readPort = (host: number, kernelIfaces: ReadonlyArray<string>): Q<IscsiHostPort.IscsiHostPort> =>
  Effect.gen(function*() {
    const { hwaddress, ipaddress, link, netdev, procName } = yield* Effect.all({
      link: Sysfs.use((s) => s.readlink(IscsiLayout.iscsiHostDir(host))),
      procName: readFile(Layout.scsiHostFile(host, "proc_name")),
      hwaddress: readFile(IscsiLayout.iscsiHostFile(host, "hwaddress")),
      ipaddress: readFile(IscsiLayout.iscsiHostFile(host, "ipaddress")),
      netdev: readFile(IscsiLayout.iscsiHostFile(host, "netdev"))
    })
    const own = kernelIfaces.filter((k) => IscsiLayout.hostOfKernelIface(k) === host)
    const ifaceAddresses = yield* Effect.forEach(own, (k) => readFile(IscsiLayout.kernelIfaceFile(k, "ipaddress")))
    const addresses = [ipaddress, ...ifaceAddresses].flatMap((a) => {
      const v = IscsiHostPort.sysfsValue(a)
      return Option.isSome(v) ? [v.value] : []
    })
    return {
      host,
      transport: IscsiHostPort.transportOfProcName(Option.getOrElse(procName, () => "")),
      hwaddress: IscsiHostPort.hwaddressOf(hwaddress),
      ipaddresses: [...new Set(addresses)],
      netdev: IscsiHostPort.sysfsValue(netdev),
      pciAddress: IscsiHostPort.pciAddressOfLink(link)
    }
  })

/** The given hosts' ports. */
const readPorts = (hosts: ReadonlyArray<number>): Q<ReadonlyArray<IscsiHostPort.IscsiHostPort>> =>
  Effect.gen(function*() {
    if (hosts.length === 0) return []
    const kernelIfaces = yield* list(IscsiLayout.kernelIfacesDir)
    return yield* Effect.forEach(hosts, (h) => readPort(h, kernelIfaces))
  })

/** Every iSCSI host port, software ones included. */
export const allHostPorts: Q<ReadonlyArray<IscsiHostPort.IscsiHostPort>> = Effect.flatMap(
  list(IscsiLayout.iscsiHostsDir),
  (names) => readPorts(hostNumbers(names))
)

/** The ports of the hosts that are not software ones (those under /sys/devices/platform are skipped unread). */
export const offloadHostPorts: Q<ReadonlyArray<IscsiHostPort.IscsiHostPort>> = Effect.gen(function*() {
  const hosts = hostNumbers(yield* list(IscsiLayout.iscsiHostsDir))
  if (hosts.length === 0) return []
  const software = new Set(hostNumbers(yield* list(Layout.platformDevicesDir)))
  return yield* readPorts(hosts.filter((h) => !software.has(h)))
})

/** The transport the requested iface names (its record's, or the spec's); undefined when unknown. */
const requestedTransport = (options: ConnectorOptions, facts: Pick<IfaceFacts, "ifaces">): string | undefined => {
  const requested = options.iface
  if (requested === undefined) return undefined
  if (typeof requested !== "string") return requested.transport
  return facts.ifaces.find((r) => r.name === requested)?.transport ?? (requested === iserIface ? "iser" : undefined)
}

/** Whether the requested spec is resolved against the network interfaces. */
const needsNetdevs = (options: ConnectorOptions, transport: string | undefined): boolean => {
  const spec = options.iface
  if (spec === undefined || typeof spec === "string") return false
  const offload = transport !== undefined && isTransport(transport) && isOffload(transport)
  return offload
    ? spec.hwaddress === undefined && (spec.netIfacename !== undefined || spec.ipaddress !== undefined)
    : spec.hwaddress !== undefined || spec.netIfacename !== undefined || spec.ipaddress !== undefined
}

/** The facts a connect's plan needs (see the module's comment). */
export const read = (
  options: ConnectorOptions
): Effect.Effect<IfaceFacts, ConnectError, Iscsiadm | Sysfs | Network> =>
  Effect.gen(function*() {
    if (options.iface === undefined || options.iface === defaultIface) return noFacts
    const ifaces = yield* Iscsiadm.use((i) => i.listIfaces).pipe(Effect.mapError(connectHostError("listing ifaces")))
    const transport = requestedTransport(options, { ifaces })
    // a spec without a transport may land on an offload HBA: its ports are read to find it
    const offload = transport === undefined
      ? typeof options.iface !== "string"
      : isTransport(transport) && isOffload(transport)
    const hostError = connectHostError("reading iSCSI transports and hosts")
    const transports = offload ? yield* Effect.mapError(loadedTransports, hostError) : []
    const hostPorts = offload ? yield* Effect.mapError(offloadHostPorts, hostError) : []
    const rdma = transport === "iser" ? yield* Effect.mapError(rdmaDevices, hostError) : []
    const netdevs = needsNetdevs(options, transport)
      ? yield* Network.use((n) => n.interfaces).pipe(Effect.mapError(connectHostError("reading network interfaces")))
      : []
    return { ifaces, transports, hostPorts, rdmaDevices: rdma, netdevs }
  }).pipe(Effect.withSpan("brick.ifaceFacts"))

/**
 * Every fact (for `brick ifaces` and `brick plan --facts`): all records,
 * transports, host ports, RDMA devices and network interfaces.
 */
export const readAll: Effect.Effect<
  IfaceFacts,
  IscsiadmError | SysfsError | NetworkError,
  Iscsiadm | Sysfs | Network
> = Effect.gen(function*() {
  const ifaces = yield* Iscsiadm.use((i) => i.listIfaces)
  const transports = yield* loadedTransports
  const hostPorts = yield* allHostPorts
  const rdma = yield* rdmaDevices
  const netdevs = yield* Network.use((n) => n.interfaces)
  return { ifaces, transports, hostPorts, rdmaDevices: rdma, netdevs }
}).pipe(Effect.withSpan("brick.ifaceFactsAll"))
