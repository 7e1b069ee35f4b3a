/**
 * `brick plan`'s output: what a connect would do, from the decoded input,
 * the options and (by default empty) iface facts — the paths with their
 * kernel LUNs and by-path names, the iface choice and any fallback with its
 * reason, discovery, the node settings, and the exact iscsiadm commands, with
 * every secret shown as `<redacted>`. Pure: it reads and runs nothing.
 */
import {
  ByPath,
  type ConnectionInfo,
  type ConnectorOptions,
  ConnectPlan,
  IfaceChoice,
  type Iscsiadm
} from "@brick/core"
import { IscsiadmArgs, Redaction } from "@brick/interpreter-node"
import { Option } from "effect"

/** How commands are rendered: the program path and any command prefix. */
export interface CommandStyle {
  readonly iscsiadm: string
  readonly prefix: ReadonlyArray<string>
}

/** Where the iface facts came from. */
export type FactsSource = "none" | "host"

type Words = ReadonlyArray<Redaction.Word>

/** The iface decision as reported. */
export type IfaceReport =
  | {
    readonly decision: "use"
    readonly name: string
    readonly transport: string
    /** The iface record connect would create first, when it does not exist. */
    readonly create: Iscsiadm.IfaceSettings | null
  }
  | {
    readonly decision: "fallback"
    readonly name: string
    readonly transport: string
    readonly requested: string
    readonly reason: string
    readonly detail: string
  }
  | { readonly decision: "refuse"; readonly requested: string; readonly reason: string; readonly detail: string }

/** What `brick plan` prints. */
export interface PlanReport {
  readonly volumeId: string | null
  readonly facts: string
  readonly outcome: string
  readonly multipath: boolean
  readonly enforceMultipath: boolean
  readonly iface: IfaceReport
  readonly offload: boolean
  /** The offload HBA port's PCI function (the by-path links' `pci-…-` prefix). */
  readonly pci: string | null
  readonly addressingMode: string
  readonly discovery: { readonly portal: string; readonly auth: "CHAP" | "None"; readonly note: string } | null
  readonly session: {
    readonly auth: "CHAP" | "None"
    readonly mutualChap: boolean
    readonly startup: string | null
    readonly scan: string | null
    readonly loginTimeout: number | null
    readonly loginRetryMax: number | null
  }
  readonly paths: ReadonlyArray<{
    readonly portal: string
    readonly iqn: string
    readonly lun: number
    readonly kernelLun: number
    readonly byPath: string
  }>
  readonly waits: {
    readonly deviceScanAttempts: number
    readonly deviceScanIntervalMs: number
    readonly pollIntervalMs: number
    readonly multipathWaitTimeoutS: number
    readonly lockTimeoutS: number
  }
  /**
   * The iscsiadm command lines that change state, in order, secrets as
   * `<redacted>` (read-only listings and sysfs scans are not listed).
   */
  readonly commands: ReadonlyArray<string>
}

const ifaceReport = (choice: IfaceChoice.IfaceChoice): IfaceReport => {
  switch (choice._tag) {
    case "Use":
      return {
        decision: "use",
        name: choice.iface,
        transport: choice.transport,
        create: Option.isSome(choice.create) ? choice.create.value : null
      }
    case "Fallback":
      return {
        decision: "fallback",
        name: choice.iface,
        transport: choice.transport,
        requested: choice.requested,
        reason: choice.reason._tag,
        detail: IfaceChoice.describeReason(choice.reason)
      }
    case "Refuse":
      return {
        decision: "refuse",
        requested: choice.requested,
        reason: choice.reason._tag,
        detail: IfaceChoice.describeReason(choice.reason)
      }
  }
}

/** The iscsiadm argv lists a connect runs for `plan`, in order (none when the iface is refused). */
export const iscsiadmCommands = (plan: ConnectPlan.ConnectPlan): ReadonlyArray<Words> => {
  const iface = ConnectPlan.ifaceOf(plan)
  if (Option.isNone(iface)) return []
  const out: Array<Words> = []
  if (plan.iface._tag === "Use" && Option.isSome(plan.iface.create)) {
    out.push(
      IscsiadmArgs.ifaceNew(plan.iface.iface),
      IscsiadmArgs.ifaceUpdate(plan.iface.iface, plan.iface.create.value)
    )
  }
  if (Option.isSome(plan.discovery)) {
    out.push(
      ...IscsiadmArgs.discoveryCommands({
        portal: plan.discovery.value.portal,
        iface: iface.value,
        auth: plan.discovery.value.auth
      })
    )
  }
  for (const path of plan.paths) {
    const node = { portal: path.portal, iqn: path.iqn, iface: iface.value }
    out.push(IscsiadmArgs.nodeNew(node))
    const update = IscsiadmArgs.nodeUpdate(node, plan.nodeSettings)
    if (update !== undefined) out.push(update)
    out.push(IscsiadmArgs.login(node))
  }
  return out
}

/** The report `brick plan` prints. */
export const make = (
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions,
  facts: IfaceChoice.IfaceFacts,
  source: FactsSource,
  style: CommandStyle
): PlanReport => {
  const plan = ConnectPlan.make(data, options, facts)
  const auth = plan.nodeSettings.auth ?? Option.none()
  return {
    volumeId: data.volume_id ?? null,
    facts: source === "none"
      ? "none: nothing was read from the host; no iface record or HBA is assumed to exist (use --facts to read them)"
      : "read from the host (iscsiadm -m iface, /sys/class/iscsi_transport, /sys/class/iscsi_host, " +
        "/sys/class/infiniband)",
    outcome: plan.iface._tag === "Refuse"
      ? `connect would fail: iface ${plan.iface.requested} cannot be used (${
        IfaceChoice.describeReason(plan.iface.reason)
      }) and ifaceFallback is off`
      : "connect would log in as below",
    multipath: plan.multipath,
    enforceMultipath: plan.enforceMultipath,
    iface: ifaceReport(plan.iface),
    offload: plan.offload,
    pci: Option.getOrNull(plan.pci),
    addressingMode: plan.addressingMode,
    discovery: Option.isSome(plan.discovery)
      ? {
        portal: plan.discovery.value.portal,
        auth: Option.isSome(plan.discovery.value.auth) ? "CHAP" : "None",
        note: "connect also logs in to every other portal of the target that discovery reports"
      }
      : null,
    session: {
      auth: Option.isSome(auth) ? "CHAP" : "None",
      mutualChap: Option.isSome(auth) && Option.isSome(auth.value.usernameIn),
      startup: plan.nodeSettings.startup ?? null,
      scan: plan.nodeSettings.scan ?? null,
      loginTimeout: plan.nodeSettings.loginTimeout ?? null,
      loginRetryMax: plan.nodeSettings.loginRetryMax ?? null
    },
    paths: plan.paths.map((p) => ({
      portal: p.portal,
      iqn: p.iqn,
      lun: p.lun,
      kernelLun: p.kernelLun,
      byPath: `${ByPath.directory}/${p.byPathName}`
    })),
    waits: {
      deviceScanAttempts: options.deviceScanAttempts,
      deviceScanIntervalMs: options.deviceScanInterval,
      pollIntervalMs: options.pollInterval,
      multipathWaitTimeoutS: options.multipathWaitTimeout,
      lockTimeoutS: options.lockTimeout
    },
    commands: iscsiadmCommands(plan).map((argv) => Redaction.render([...style.prefix, style.iscsiadm, ...argv]))
  }
}
