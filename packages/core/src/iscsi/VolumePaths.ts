/**
 * getVolumePaths: the /dev/disk/by-path links a volume's paths get (os-brick's
 * get_volume_paths). For software transports the names are known from the
 * input alone; for offload HBAs the PCI part is not, so the by-path directory
 * is listed and matched.
 */
import { Effect } from "effect"
import { connectHostError } from "../BrickError.ts"
import * as IfaceFacts from "../internal/iscsi/IfaceFacts.ts"
import * as Layout from "../internal/SysfsLayout.ts"
import { Sysfs } from "../Sysfs.ts"
import * as ByPath from "./ByPath.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as ConnectPlan from "./ConnectPlan.ts"

/** The candidate by-path paths of a volume from decoded input. */
export const volumePaths = Effect.fn("brick.volumePaths")(function*(
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions
) {
  const facts = yield* IfaceFacts.read(options)
  const plan = ConnectPlan.make(data, options, facts)
  if (!plan.offload) {
    return plan.paths.map((p) => ByPath.path({ pci: undefined, portal: p.portal, iqn: p.iqn, kernelLun: p.kernelLun }))
  }
  const names = yield* Sysfs.use((s) => s.list(Layout.byPathDir)).pipe(
    Effect.mapError(connectHostError("listing by-path links"))
  )
  return names.filter((n) => plan.paths.some((p) => ByPath.matches(n, p, true))).map((n) => `${ByPath.directory}/${n}`)
})

/** The candidate by-path paths of a volume: decodes `info` and `options` first. */
export const getVolumePaths = Effect.fn("brick.getVolumePaths")(function*(info: unknown, options?: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* volumePaths(data, decoded)
})
