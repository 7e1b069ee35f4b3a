/**
 * What a connect will do, decided purely from the decoded input, the options
 * and facts read off the host: the paths, the iface, discovery, CHAP, and
 * the by-path names to expect. `brick plan` prints it; connectVolume runs it.
 */
import { Option } from "effect"
import { type AddressingMode, kernelLun } from "../Lun.ts"
import * as ByPath from "./ByPath.ts"
import { type Chap, type ConnectionData, discoveryChap, sessionChap } from "./ConnectionInfo.ts"
import type { ConnectorOptions } from "./ConnectorOptions.ts"
import * as IfaceChoice from "./IfaceChoice.ts"
import type { IfaceName } from "./IfaceName.ts"
import type { NodeSettings } from "./Iscsiadm.ts"
import type { Portal } from "./Portal.ts"
import * as TargetPath from "./TargetPath.ts"
import { isOffload } from "./Transport.ts"

/** One path with everything needed to log in and find its device. */
export interface PlannedPath extends TargetPath.TargetPath {
  /** The LUN as the kernel numbers it (H:C:T:L), after addressing. */
  readonly kernelLun: number
  /** The by-path link name (with the HBA port's `pci-…-` prefix for offload transports). */
  readonly byPathName: string
}

/** The plan of a connect. */
export interface ConnectPlan {
  readonly multipath: boolean
  readonly enforceMultipath: boolean
  readonly paths: ReadonlyArray<PlannedPath>
  /**
   * Without multipath: the other listed paths (`target_portals` …), tried in
   * order when the one before failed (as os-brick does); empty with multipath.
   */
  readonly alternates: ReadonlyArray<PlannedPath>
  /** Sendtargets discovery to run first (multipath with a single portal). */
  readonly discovery: Option.Option<{ readonly portal: Portal; readonly auth: Option.Option<Chap> }>
  readonly iface: IfaceChoice.IfaceChoice
  readonly addressingMode: AddressingMode
  /** Settings written to every node record before login. */
  readonly nodeSettings: NodeSettings
  readonly offload: boolean
  /** The PCI function of the offload HBA port the sessions go through (udev's by-path prefix). */
  readonly pci: Option.Option<string>
}

/** The settings brick writes into each node record. */
export const nodeSettings = (data: ConnectionData, options: ConnectorOptions): NodeSettings => ({
  startup: "manual",
  scan: options.manualScan ? "manual" : "auto",
  auth: sessionChap(data),
  loginTimeout: options.loginTimeout,
  loginRetryMax: 1
})

/** Plans one path through a host port on `pci` (none: a software transport's). */
export const plannedPath = (
  path: TargetPath.TargetPath,
  mode: AddressingMode,
  pci: Option.Option<string>
): PlannedPath => {
  const lun = kernelLun(path.lun, mode)
  return {
    ...path,
    kernelLun: lun,
    byPathName: ByPath.name({ pci: Option.getOrUndefined(pci), portal: path.portal, iqn: path.iqn, kernelLun: lun })
  }
}

/** The iface the plan logs in with (the fallback's `default` when it fell back). */
export const ifaceOf = (plan: ConnectPlan): Option.Option<IfaceName> =>
  plan.iface._tag === "Refuse" ? Option.none() : Option.some(plan.iface.iface)

/** Plans a connect. */
export const make = (data: ConnectionData, options: ConnectorOptions, facts: IfaceChoice.IfaceFacts): ConnectPlan => {
  const iface = IfaceChoice.choose(options.iface, facts, options.ifaceFallback)
  const offload = iface._tag !== "Refuse" && isOffload(iface.transport)
  const pci = iface._tag === "Use" ? Option.flatMap(iface.port, (p) => p.pciAddress) : Option.none()
  const mode = data.addressing_mode ?? "transparent"
  const paths = TargetPath.fromConnectionData(data, options.useMultipath)
  const single = options.useMultipath && data.target_portals === undefined && paths.length === 1
  const alternates = options.useMultipath ? [] : TargetPath.fromConnectionData(data, true).slice(1)
  return {
    multipath: options.useMultipath,
    enforceMultipath: options.enforceMultipath,
    paths: paths.map((p) => plannedPath(p, mode, pci)),
    alternates: alternates.map((p) => plannedPath(p, mode, pci)),
    discovery: single ? Option.some({ portal: paths[0]!.portal, auth: discoveryChap(data) }) : Option.none(),
    iface,
    addressingMode: mode,
    nodeSettings: nodeSettings(data, options),
    offload,
    pci
  }
}
