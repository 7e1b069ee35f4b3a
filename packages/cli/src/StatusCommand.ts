/**
 * `brick status --info FILE|- [options]`: what the host shows of the volume
 * now, as JSON: each session to its targets (state, iface, brick's or not),
 * the volume's devices on it (state, WWN, map, and the map's path states as
 * multipathd reports them), its maps, and the listed paths without a session
 * of brick's ifaces. Reads only.
 */
import { type BrickError, type InvalidInput, VolumeStatus } from "@brick/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import { info } from "./SharedFlags.ts"

/** How `brick status` can fail. */
export type StatusFailure = InputUnreadable | InvalidInput.InvalidInput | BrickError.StatusError

/** `brick status` */
export const command = Command.make(
  "status",
  { info },
  Effect.fn("brick.cli.status")(function*({ info }) {
    const data = yield* ConnectorInput.connectionInfo(info)
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const hostFlags = yield* GlobalFlags.hostFlags
    const status = yield* VolumeStatus.status(data, options).pipe(Host.provide(hostFlags))
    yield* Output.printJson(status)
  })
).pipe(
  Command.withDescription(
    "Print what the host shows of the volume as JSON: every session to its targets (state; iface, and whether " +
      "it is brick's), the volume's devices on it (state, WWN, map; the path's state in the map and its checker's, " +
      "from multipathd), its maps, and the listed paths with no session of brick's ifaces (`missing`: a connect " +
      "adds them). Changes nothing."
  ),
  Command.withExamples([
    { command: "brick status --info volume.json --multipath", description: "each path's session and map state" }
  ])
)
