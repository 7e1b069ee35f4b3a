/**
 * The `brick` command: its subcommands and the global flags they share.
 */
import type { BrickError, InvalidInput, Iscsiadm, Network, Sysfs } from "@brick/core"
import { Command } from "effect/cli"
import * as ConnectCommand from "./ConnectCommand.ts"
import * as DisconnectCommand from "./DisconnectCommand.ts"
import * as ExtendCommand from "./ExtendCommand.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as IfacesCommand from "./IfacesCommand.ts"
import * as PathsCommand from "./PathsCommand.ts"
import * as PlanCommand from "./PlanCommand.ts"
import * as PropertiesCommand from "./PropertiesCommand.ts"
import * as StatusCommand from "./StatusCommand.ts"

/** Every typed failure of a brick command (ErrorReport classifies them). */
export type BrickFailure =
  | InvalidInput.InvalidInput
  | BrickError.ConnectError
  | BrickError.DisconnectError
  | BrickError.ExtendError
  | BrickError.PropertiesError
  | BrickError.StatusError
  | Iscsiadm.IscsiadmError
  | Sysfs.SysfsError
  | Network.NetworkError
  | ConnectCommand.ConnectFailure
  | DisconnectCommand.DisconnectFailure
  | ExtendCommand.ExtendFailure
  | PathsCommand.PathsFailure
  | PropertiesCommand.PropertiesFailure
  | PlanCommand.PlanFailure
  | StatusCommand.StatusFailure
  | IfacesCommand.IfacesFailure

/** `brick` */
export const command = Command.make("brick").pipe(
  Command.withDescription(
    "Attach and detach iSCSI volumes (Cinder connection info in, JSON out). Errors are one JSON object on " +
      "stderr with a stable exit status per kind (see the README); logs are JSON lines on stderr."
  ),
  Command.withSubcommands([
    ConnectCommand.command,
    DisconnectCommand.command,
    ExtendCommand.command,
    PathsCommand.command,
    PropertiesCommand.command,
    PlanCommand.command,
    StatusCommand.command,
    IfacesCommand.command
  ]),
  Command.withGlobalFlags(GlobalFlags.all)
)
