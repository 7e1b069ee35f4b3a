/** Iface facts for tests: HBA ports and hosts that have them. */
import { Option } from "effect"
import { IfaceChoice, type IscsiHostPort, type Transport } from "../src/index.ts"

/** An offload HBA port of `transport` with `hwaddress` on PCI function `pci`. */
export const port = (
  transport: Transport.Transport | string,
  hwaddress: string,
  extra: Partial<IscsiHostPort.IscsiHostPort> = {}
): IscsiHostPort.IscsiHostPort => ({
  host: 2,
  transport,
  hwaddress: Option.some(hwaddress.toLowerCase()),
  ipaddresses: [],
  netdev: Option.none(),
  pciAddress: Option.some("0000:03:00.1"),
  ...extra
})

/** Facts of a host with these HBA ports, their transports loaded and an RDMA device. */
export const withPorts = (
  ports: ReadonlyArray<IscsiHostPort.IscsiHostPort>,
  extra: Partial<IfaceChoice.IfaceFacts> = {}
): IfaceChoice.IfaceFacts => ({
  ...IfaceChoice.noFacts,
  transports: [...new Set(["tcp", "iser", ...ports.map((p) => p.transport)])],
  hostPorts: ports,
  rdmaDevices: ["rxe0"],
  ...extra
})
