/**
 * `brick extend --info FILE|-`: rescans the volume's devices (and resizes its
 * multipath map) after the target grew it; prints `{"size": bytes}`.
 */
import { type BrickError, ExtendVolume, type InvalidInput } from "@brick/core"
import { Effect } from "effect"
import { Command } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import { Progress } from "./Progress.ts"
import { info } from "./SharedFlags.ts"

/** How `brick extend` can fail. */
export type ExtendFailure = InputUnreadable | InvalidInput.InvalidInput | BrickError.ExtendError

/** `brick extend` */
export const command = Command.make(
  "extend",
  { info },
  Effect.fn("brick.cli.extend")(function*({ info }) {
    const data = yield* ConnectorInput.connectionInfo(info)
    const progress = yield* Progress
    const hostFlags = yield* GlobalFlags.hostFlags
    const size = yield* ExtendVolume.extend(data).pipe(
      Host.provide(hostFlags),
      progress.during(`extending ${data.volume_id ?? data.target_iqn ?? "volume"}`)
    )
    yield* Output.printJson({ size })
  })
).pipe(
  Command.withDescription(
    "After the target grew the volume: rescan its SCSI devices, resize its multipath map, and print " +
      "{\"size\": bytes}, the size the kernel now reports."
  )
)
