/**
 * `brick paths --info FILE|- [options]`: the /dev/disk/by-path paths the
 * volume's device would (or does) have, as a JSON array.
 */
import { type BrickError, type InvalidInput, VolumePaths } from "@brick/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import { info } from "./SharedFlags.ts"

/** How `brick paths` can fail. */
export type PathsFailure = InputUnreadable | InvalidInput.InvalidInput | BrickError.ConnectError

/** `brick paths` */
export const command = Command.make(
  "paths",
  { info },
  Effect.fn("brick.cli.paths")(function*({ info }) {
    const data = yield* ConnectorInput.connectionInfo(info)
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const hostFlags = yield* GlobalFlags.hostFlags
    const paths = yield* VolumePaths.volumePaths(data, options).pipe(Host.provide(hostFlags))
    yield* Output.printJson(paths)
  })
).pipe(
  Command.withDescription(
    "Print the volume's candidate device paths (/dev/disk/by-path/...) as a JSON array, one per path it " +
      "would log in to (every portal with --multipath). Reads the iface records only when --iface is not default."
  )
)
