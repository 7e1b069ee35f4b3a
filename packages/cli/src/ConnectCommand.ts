/**
 * `brick connect --info FILE|- [--device FILE] [options]`: attaches the
 * volume (on a volume already attached: adds its missing paths) and prints
 * its device info (`{type, path, scsi_wwn, multipath_id?, ..., paths}`) on
 * stdout — the document `brick disconnect --device` takes back. `--device`,
 * an earlier connect's output, pins the volume's WWN.
 */
import { type BrickError, ConnectVolume, DeviceInfo, type InvalidInput } from "@brick/core"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import { Progress } from "./Progress.ts"
import { device, info } from "./SharedFlags.ts"
import type { UsageError } from "./UsageError.ts"

/** How `brick connect` can fail. */
export type ConnectFailure = InputUnreadable | InvalidInput.InvalidInput | UsageError | BrickError.ConnectError

/** `brick connect` */
export const command = Command.make(
  "connect",
  { info, device: device.pipe(Flag.optional) },
  Effect.fn("brick.cli.connect")(function*({ device, info }) {
    yield* ConnectorInput.oneStdin([["--info", info], ["--device", Option.getOrUndefined(device)]])
    const data = yield* ConnectorInput.connectionInfo(info)
    const earlier = Option.isSome(device)
      ? Option.some(yield* ConnectorInput.deviceInfo(device.value))
      : Option.none()
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const progress = yield* Progress
    const hostFlags = yield* GlobalFlags.hostFlags
    const attached = yield* ConnectVolume.connect(data, options, earlier).pipe(
      Host.provide(hostFlags),
      progress.during(`connecting ${data.volume_id ?? data.target_iqn ?? "volume"}`)
    )
    yield* Output.printJson(DeviceInfo.encode(attached))
  })
).pipe(
  Command.withDescription(
    "Attach a volume: log in (every portal with --multipath), find its device, assemble multipath, and print " +
      "the device info JSON ({type, path, scsi_wwn, multipath_id?, ..., paths}) on stdout. On failure nothing it " +
      "created is left. On a volume already attached it adds the paths that are missing and changes nothing else; " +
      "--device (an earlier connect's JSON) pins the volume's WWN."
  ),
  Command.withExamples([
    { command: "brick connect --info volume.json --multipath > device.json", description: "attach with multipath" },
    { command: "brick connect --info - --iface iface0 < volume.json", description: "attach through an iface" },
    {
      command: "brick connect --info volume.json --device device.json --multipath",
      description: "add the missing paths of an attached volume"
    }
  ])
)
