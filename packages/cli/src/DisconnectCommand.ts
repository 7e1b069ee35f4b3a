/**
 * `brick disconnect --info FILE --device FILE [--force] [--ignore-errors]
 * [--other-ifaces]`: detaches the volume — flushes and removes its map and
 * devices, logs out of sessions no other LUN uses — and prints
 * `{"disconnected": true}`. Only the sessions of the ifaces brick connects
 * through (--iface, default `default`, and those the device info names) are
 * touched, unless --other-ifaces.
 */
import { type BrickError, DisconnectVolume, type InvalidInput } from "@brick/core"
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

/** How `brick disconnect` can fail. */
export type DisconnectFailure = InputUnreadable | InvalidInput.InvalidInput | UsageError | BrickError.DisconnectError

/** `brick disconnect` */
export const command = Command.make(
  "disconnect",
  {
    info,
    device: device.pipe(Flag.optional),
    force: Flag.Boolean("force").pipe(
      Flag.withDescription("go on past failing steps (flush, delete, logout), then fail listing them all"),
      Flag.withDefault(false)
    ),
    ignoreErrors: Flag.Boolean("ignore-errors").pipe(
      Flag.withDescription("go on past failing steps and succeed (failures are logged)"),
      Flag.withDefault(false)
    ),
    otherIfaces: Flag.Boolean("other-ifaces").pipe(
      Flag.withDescription(
        "also the volume's devices and sessions through other ifaces than brick's " +
          "(another tool's: left alone by default)"
      ),
      Flag.withDefault(false)
    )
  },
  Effect.fn("brick.cli.disconnect")(function*({ device, force, ignoreErrors, info, otherIfaces }) {
    yield* ConnectorInput.oneStdin([["--info", info], ["--device", Option.getOrUndefined(device)]])
    const data = yield* ConnectorInput.connectionInfo(info)
    const deviceInfo = Option.isSome(device)
      ? Option.some(yield* ConnectorInput.deviceInfo(device.value))
      : Option.none()
    const options = yield* ConnectorInput.connectorOptions(yield* GlobalFlags.optionFlags)
    const progress = yield* Progress
    const hostFlags = yield* GlobalFlags.hostFlags
    yield* DisconnectVolume.disconnect(data, options, deviceInfo, { force, ignoreErrors, otherIfaces }).pipe(
      Host.provide(hostFlags),
      progress.during(`disconnecting ${data.volume_id ?? data.target_iqn ?? "volume"}`)
    )
    yield* Output.printJson({ disconnected: true })
  })
).pipe(
  Command.withDescription(
    "Detach a volume: flush and remove its multipath map and SCSI devices, log out of sessions no other LUN " +
      "uses and delete their node records. --device (the JSON connect printed) is recommended: it pins the " +
      "volume's WWN and map. Sessions through other ifaces than brick's (--iface, and those --device names) are " +
      "left alone unless --other-ifaces."
  ),
  Command.withExamples([
    { command: "brick disconnect --info volume.json --device device.json", description: "detach" },
    { command: "brick disconnect --info volume.json --device device.json --force", description: "detach past failures" }
  ])
)
