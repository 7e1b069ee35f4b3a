/**
 * The `brick` command: its subcommands and the global flags they share.
 */
import type { InvalidInput, Iscsiadm, Sysfs } from "@brick/core"
import { Command } from "effect/cli"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as PlanCommand from "./PlanCommand.ts"

/** Every typed failure of a brick command (ErrorReport classifies them). */
export type BrickFailure = InvalidInput.InvalidInput | Iscsiadm.IscsiadmError | Sysfs.SysfsError | PlanCommand.PlanFailure

/** `brick` */
export const command = Command.make("brick").pipe(
  Command.withDescription(
    "Attach and detach iSCSI volumes (Cinder connection info in, JSON out). Errors are one JSON object on " +
      "stderr with a stable exit status per kind (see the README); logs are JSON lines on stderr."
  ),
  Command.withSubcommands([PlanCommand.command]),
  Command.withGlobalFlags(GlobalFlags.all)
)
