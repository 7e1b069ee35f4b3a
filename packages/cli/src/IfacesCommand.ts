/**
 * `brick ifaces [--facts]`: every iface record and every iSCSI-capable port
 * of the host, usable or why not (IfacesReport.ts), as JSON. Reads only:
 * `iscsiadm -m iface`, `ip -json address show`, /sys/class/iscsi_transport,
 * /sys/class/iscsi_host (+ scsi_host, iscsi_iface), /sys/class/infiniband,
 * /sys/class/net/NAME/device. `--facts` adds what was read.
 */
import { HostPath, IfaceFacts, type Iscsiadm, IscsiHostPort, type Network, Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import * as IfacesReport from "./IfacesReport.ts"
import * as Output from "./Output.ts"

/** How `brick ifaces` can fail. */
export type IfacesFailure = Iscsiadm.IscsiadmError | Sysfs.SysfsError | Network.NetworkError

const rdmaDir = HostPath.make("/sys/class/infiniband")
const netDir = HostPath.make("/sys/class/net")
const lastSegment = (link: string) => link.slice(link.lastIndexOf("/") + 1)
const plain = (name: string) => HostPath.isRelative(name) && !name.includes("/")

/** An RDMA device's network interface: RoCE's GID 0 netdev, else soft-RoCE's `parent`. */
const rdmaDevice = (name: string) =>
  Effect.gen(function*() {
    const sysfs = yield* Sysfs.Sysfs
    const dir = HostPath.join(rdmaDir, name)
    const ndev = yield* sysfs.read(HostPath.join(dir, "ports/1/gid_attrs/ndevs/0"))
    const parent = yield* sysfs.read(HostPath.join(dir, "parent"))
    const link = yield* sysfs.readlink(dir)
    return {
      name,
      netdev: Option.orElse(IscsiHostPort.sysfsValue(ndev), () => IscsiHostPort.sysfsValue(parent)),
      pciAddress: IscsiHostPort.pciAddressOfLink(link)
    } satisfies IfacesReport.RdmaDevice
  })

/** A network interface's driver and PCI function; none for virtual ones. */
const netDriver = (netdev: string) =>
  Effect.gen(function*() {
    const sysfs = yield* Sysfs.Sysfs
    const driver = yield* sysfs.readlink(HostPath.join(netDir, netdev, "device/driver"))
    if (Option.isNone(driver)) return Option.none<IfacesReport.NetDriver>()
    const device = yield* sysfs.readlink(HostPath.join(netDir, netdev, "device"))
    const pci = Option.map(device, lastSegment)
    return Option.some<IfacesReport.NetDriver>({
      netdev,
      driver: lastSegment(driver.value),
      pciAddress: Option.filter(pci, (p) => /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/.test(p))
    })
  })

/** Everything the report needs, read off the host. */
export const read = Effect.gen(function*() {
  const facts = yield* IfaceFacts.readAll
  const rdma = yield* Effect.forEach(facts.rdmaDevices.filter(plain), rdmaDevice)
  const drivers = yield* Effect.forEach(facts.netdevs.map((n) => n.name).filter(plain), netDriver)
  return { ...facts, rdma, drivers: drivers.flatMap(Option.toArray) } satisfies IfacesReport.IfacesFacts
})

/** The facts as plain JSON. */
const factsJson = (f: IfacesReport.IfacesFacts) => ({
  transports: f.transports,
  rdmaDevices: f.rdma.map((d) => ({ name: d.name, netdev: Option.getOrNull(d.netdev) })),
  netdevs: f.netdevs.map((n) => ({ name: n.name, hwaddress: Option.getOrNull(n.hwaddress), addresses: n.addresses })),
  drivers: f.drivers.map((d) => ({ netdev: d.netdev, driver: d.driver, pciAddress: Option.getOrNull(d.pciAddress) }))
})

/** `brick ifaces` */
export const command = Command.make(
  "ifaces",
  {
    facts: Flag.Boolean("facts").pipe(
      Flag.withDescription("also print the facts read (transports, RDMA devices, network interfaces, drivers)"),
      Flag.withDefault(false)
    )
  },
  Effect.fn("brick.cli.ifaces")(function*({ facts }) {
    const hostFlags = yield* GlobalFlags.hostFlags
    const read_ = yield* Host.provide(hostFlags)(read)
    const report = IfacesReport.make(read_)
    yield* Output.printJson(facts ? { ...report, facts: factsJson(read_) } : report)
  })
).pipe(
  Command.withDescription(
    "Print every iface record and every iSCSI-capable port of the host (iSCSI hosts, RDMA devices, " +
      "offload-capable NICs): transport, hardware address, IP addresses, network interface, PCI function, " +
      "whether brick would use it and, if not, why. Reads only."
  ),
  Command.withExamples([
    { command: "brick ifaces", description: "what brick can connect through" },
    { command: "brick ifaces --facts", description: "with the facts it decided from" }
  ])
)
