/**
 * getVolumePaths: the /dev/disk/by-path links a volume's paths get (os-brick's
 * get_volume_paths): udev's names from the input and, for an offload iface,
 * the PCI function of its HBA port as the host shows it (the iface facts).
 */
import { Effect } from "effect"
import * as ByPath from "./ByPath.ts"
import * as ConnectionInfo from "./ConnectionInfo.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import * as ConnectPlan from "./ConnectPlan.ts"
import * as IfaceFacts from "./IfaceFacts.ts"

/** The by-path paths of a volume from decoded input. */
export const volumePaths = Effect.fn("brick.volumePaths")(function*(
  data: ConnectionInfo.ConnectionData,
  options: ConnectorOptions.ConnectorOptions
) {
  const facts = yield* IfaceFacts.read(options)
  const plan = ConnectPlan.make(data, options, facts)
  return plan.paths.map((p) => `${ByPath.directory}/${p.byPathName}`)
})

/** The by-path paths of a volume: decodes `info` and `options` first. */
export const getVolumePaths = Effect.fn("brick.getVolumePaths")(function*(info: unknown, options?: unknown) {
  const data = yield* ConnectionInfo.decode(info)
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* volumePaths(data, decoded)
})
