/**
 * What each iSCSI offload driver shows the host, as the kernel's drivers
 * make it (qla4xxx, be2iscsi, bnx2i, cxgb3i/cxgb4i; ocs as be2iscsi): its
 * SCSI host's `proc_name`, the iscsi_host attributes its `attr_is_visible`
 * lets through, and whether it registers kernel ifaces
 * (/sys/class/iscsi_iface/ipv4-iface-H-N, holding the port's IP). The
 * software transports: iscsi_tcp shows netdev, hwaddress, ipaddress and
 * initiatorname; iscsi_iser the same without ipaddress (seen in the lab).
 */
import type { SimHba } from "./SimModel.ts"

/** An iscsi_host attribute file. */
export type HostAttribute = "hwaddress" | "ipaddress" | "netdev" | "initiatorname" | "port_state" | "port_speed"

/** A driver's view of its ports. */
export interface SimHbaDriver {
  readonly procName: string
  readonly hostAttributes: ReadonlyArray<HostAttribute>
  /** The driver registers a kernel iface per configured address (qla4xxx, be2iscsi). */
  readonly kernelIfaces: boolean
}

const fwDatabase: Omit<SimHbaDriver, "procName"> = {
  hostAttributes: ["hwaddress", "initiatorname", "ipaddress", "port_speed", "port_state"],
  kernelIfaces: true
}
const partialOffload: Omit<SimHbaDriver, "procName"> = {
  hostAttributes: ["hwaddress", "initiatorname", "ipaddress", "netdev"],
  kernelIfaces: false
}

const drivers: Readonly<Record<string, SimHbaDriver>> = {
  tcp: {
    procName: "iscsi_tcp",
    hostAttributes: ["hwaddress", "initiatorname", "ipaddress", "netdev"],
    kernelIfaces: false
  },
  iser: { procName: "iscsi_iser", hostAttributes: ["hwaddress", "initiatorname", "netdev"], kernelIfaces: false },
  qla4xxx: { procName: "qla4xxx", ...fwDatabase },
  be2iscsi: { procName: "be2iscsi", ...fwDatabase },
  ocs: { procName: "ocs", ...fwDatabase },
  bnx2i: { procName: "bnx2i", hostAttributes: ["hwaddress", "ipaddress", "netdev"], kernelIfaces: false },
  cxgb3i: { procName: "cxgb3i", ...partialOffload },
  cxgb4i: { procName: "cxgb4i", ...partialOffload }
}

/** The offload drivers the simulator knows. */
export const offloadDrivers: ReadonlyArray<string> = ["be2iscsi", "bnx2i", "cxgb3i", "cxgb4i", "ocs", "qla4xxx"]

/** Whether a transport name is an offload driver's (its sessions go through its HBA's host). */
export const isOffloadDriver = (transport: string): boolean => offloadDrivers.includes(transport)

/** The driver of a transport (an unknown one shows what iscsi_tcp shows). */
export const driverOf = (transport: string): SimHbaDriver =>
  drivers[transport] ?? { ...drivers["tcp"]!, procName: transport }

/**
 * The kernel ifaces (/sys/class/iscsi_iface) of a present HBA whose driver
 * registers them: one per configured address.
 */
export const kernelIfacesOf = (
  hba: SimHba
): ReadonlyArray<{ readonly family: "ipv4" | "ipv6"; readonly num: number; readonly address: string }> => {
  if (!hba.host || !driverOf(hba.transport).kernelIfaces || hba.ipaddress === "0.0.0.0") return []
  return [{ family: hba.ipaddress.includes(":") ? "ipv6" : "ipv4", num: 0, address: hba.ipaddress }]
}
