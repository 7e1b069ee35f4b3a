/**
 * `brick connect --info FILE|- [options]`: attaches the volume and prints
 * its device info (`{type, path, scsi_wwn, multipath_id?, ...}`) on stdout —
 * the document `brick disconnect --device` takes back.
 */
import { type BrickError, ConnectVolume, DeviceInfo, type InvalidInput } from "@brick/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import { Progress } from "./Progress.ts"
import { info } from "./SharedFlags.ts"

/** How `brick connect` can fail. */
export type ConnectFailure = InputUnreadable | InvalidInput.InvalidInput | BrickError.ConnectError

/** `brick connect` */
export const command = Command.make(
  "connect",
  { info },
  Effect.fn("brick.cli.connect")(function*({ info }) {
    const data = yield* ConnectorInput.connectionInfo(info)
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const progress = yield* Progress
    const hostFlags = yield* GlobalFlags.hostFlags
    const device = yield* ConnectVolume.connect(data, options).pipe(
      Host.provide(hostFlags),
      progress.during(`connecting ${data.volume_id ?? data.target_iqn ?? "volume"}`)
    )
    yield* Output.printJson(DeviceInfo.encode(device))
  })
).pipe(
  Command.withDescription(
    "Attach a volume: log in (every portal with --multipath), find its device, assemble multipath, and print " +
      "the device info JSON ({type, path, scsi_wwn, multipath_id?}) on stdout. On failure nothing it created is left."
  ),
  Command.withExamples([
    { command: "brick connect --info volume.json --multipath > device.json", description: "attach with multipath" },
    { command: "brick connect --info - --iface iface0 < volume.json", description: "attach through an iface" }
  ])
)
