/**
 * `brick properties [options]`: what this host tells Cinder about itself
 * for iSCSI (initiator name, multipath), as JSON.
 */
import { type BrickError, ConnectorProperties, type InvalidInput } from "@brick/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"

/** How `brick properties` can fail. */
export type PropertiesFailure = InputUnreadable | InvalidInput.InvalidInput | BrickError.PropertiesError

/** `brick properties` */
export const command = Command.make(
  "properties",
  {},
  Effect.fn("brick.cli.properties")(function*() {
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const hostFlags = yield* GlobalFlags.hostFlags
    const props = yield* ConnectorProperties.properties(options).pipe(Host.provide(hostFlags))
    yield* Output.printJson(props)
  })
).pipe(
  Command.withDescription(
    "Print the connector properties (os-brick's get_connector_properties, iSCSI part): initiator IQN, " +
      "multipath (requested and multipathd running), enforce_multipath, multipathd_running."
  )
)
