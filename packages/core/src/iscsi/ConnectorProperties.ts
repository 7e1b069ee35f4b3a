/**
 * getConnectorProperties: what this host tells Cinder about itself for
 * iSCSI (os-brick's get_connector_properties, the parts the services know):
 * the initiator name, whether multipath is usable, and whether it is
 * enforced. Not known here and left to the caller: `host` (the host name),
 * `ip` (the address Cinder should export to), `platform`, `os_type`, and the
 * other connectors' keys (`nqn`, `uuid`, `system uuid`, `do_local_attach`).
 */
import { Effect, Option } from "effect"
import { PropertiesError } from "../BrickError.ts"
import { Multipath } from "../Multipath.ts"
import * as ConnectorOptions from "./ConnectorOptions.ts"
import { Iscsiadm } from "./Iscsiadm.ts"

/** The connector properties brick can know. */
export interface ConnectorProperties {
  /** The initiator IQN (/etc/iscsi/initiatorname.iscsi); absent when not configured. */
  readonly initiator?: string
  /** Multipath requested and multipathd running. */
  readonly multipath: boolean
  readonly enforce_multipath: boolean
  /** Whether multipathd answers (whatever was requested). */
  readonly multipathd_running: boolean
}

/** The connector properties under decoded options. */
export const properties = Effect.fn("brick.properties")(function*(options: ConnectorOptions.ConnectorOptions) {
  const initiator = yield* Iscsiadm.use((i) => i.initiatorName).pipe(
    Effect.mapError((e) =>
      new PropertiesError({ reason: { _tag: "HostError", operation: "reading the initiator name", detail: e.message } })
    )
  )
  const running = yield* Multipath.use((m) => m.isRunning)
  if (options.useMultipath && options.enforceMultipath && !running) {
    return yield* Effect.fail(new PropertiesError({ reason: { _tag: "MultipathUnavailable" } }))
  }
  const props: ConnectorProperties = {
    ...(Option.isSome(initiator) ? { initiator: initiator.value } : {}),
    multipath: options.useMultipath && running,
    enforce_multipath: options.enforceMultipath,
    multipathd_running: running
  }
  return props
})

/** The connector properties: decodes `options` first. */
export const getConnectorProperties = Effect.fn("brick.getConnectorProperties")(function*(options?: unknown) {
  const decoded = yield* ConnectorOptions.decode(options)
  return yield* properties(decoded)
})
