/**
 * `brick plan --info FILE|- [options] [--facts]`: what `connect` would do,
 * touching nothing on the host — unless `--facts`, which reads (only reads)
 * the iface records and HBAs so the iface choice is the real one.
 */
import { IfaceChoice, IfaceFacts, type InvalidInput, type Iscsiadm, type Network, type Sysfs } from "@brick/core"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as ConnectorInput from "./ConnectorInput.ts"
import * as GlobalFlags from "./GlobalFlags.ts"
import * as Host from "./Host.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import * as Output from "./Output.ts"
import * as PlanReport from "./PlanReport.ts"
import { info } from "./SharedFlags.ts"

/** How `brick plan` can fail. */
export type PlanFailure =
  | InputUnreadable
  | InvalidInput.InvalidInput
  | Iscsiadm.IscsiadmError
  | Sysfs.SysfsError
  | Network.NetworkError

/** `brick plan` */
export const command = Command.make(
  "plan",
  {
    info,
    facts: Flag.Boolean("facts").pipe(
      Flag.withDescription(
        "read iface records, transports and iSCSI host ports from the host (runs iscsiadm -m iface; changes nothing)"
      ),
      Flag.withDefault(false)
    )
  },
  Effect.fn("brick.plan")(function*({ facts, info }) {
    const optionFlags = yield* GlobalFlags.optionFlags
    const hostFlags = yield* GlobalFlags.hostFlags
    const data = yield* ConnectorInput.connectionInfo(info)
    const options = yield* ConnectorInput.connectorOptions(optionFlags)
    const ifaceFacts = facts ? yield* Host.provide(hostFlags)(IfaceFacts.readAll) : IfaceChoice.noFacts
    const style = {
      iscsiadm: Option.getOrElse(hostFlags.iscsiadm, () => "iscsiadm"),
      prefix: Option.match(hostFlags.commandPrefix, { onNone: () => [], onSome: Host.prefixWords })
    }
    yield* Output.printJson(PlanReport.make(data, options, ifaceFacts, facts ? "host" : "none", style))
  })
).pipe(
  Command.withDescription(
    "Print what connect would do — paths, kernel LUNs, iface choice and fallback, discovery, by-path names and " +
      "the iscsiadm commands (secrets redacted) — without touching the host. With --facts it reads (only) the " +
      "iface records and HBAs first."
  ),
  Command.withExamples([
    { command: "brick plan --info volume.json --multipath", description: "plan a multipath attach" },
    { command: "cat volume.json | brick plan --info - --iface iface0", description: "plan through an iface" }
  ])
)
