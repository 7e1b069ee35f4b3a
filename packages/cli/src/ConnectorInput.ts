/**
 * Everything a command needs from its input, read and decoded before any
 * host layer exists: the connection info (`--info`), the connector options
 * (`--options` merged with the flags) and the device info (`--device`).
 * Secrets met on the way are registered for scrubbing.
 */
import { ConnectionInfo, ConnectorOptions, DeviceInfo, InvalidInput } from "@brick/core"
import { Effect, Option } from "effect"
import type { OptionFlags } from "./GlobalFlags.ts"
import * as Input from "./Input.ts"
import type { InputUnreadable } from "./InputUnreadable.ts"
import type { Io } from "./Io.ts"
import { Secrets } from "./Secrets.ts"
import * as SecretsModule from "./Secrets.ts"
import { UsageError } from "./UsageError.ts"

/** Reads `--info FILE|-` and decodes it as connection info. */
export const connectionInfo = (
  path: string
): Effect.Effect<ConnectionInfo.ConnectionData, InputUnreadable | InvalidInput.InvalidInput, Io | Secrets> =>
  Effect.gen(function*() {
    const raw = yield* Input.readJson("--info", "connection_info", path)
    const secrets = yield* Secrets
    SecretsModule.collect(secrets, raw)
    return yield* ConnectionInfo.decode(raw)
  })

/** The options as a user writes them: the `--options` document overridden by the flags. */
export const optionsInput = (
  flags: OptionFlags
): Effect.Effect<Record<string, unknown>, InputUnreadable | InvalidInput.InvalidInput, Io> =>
  Effect.gen(function*() {
    const fromFile = Option.isSome(flags.optionsFile)
      ? yield* Input.readJson("--options", "options", flags.optionsFile.value)
      : {}
    if (typeof fromFile !== "object" || fromFile === null || Array.isArray(fromFile)) {
      return yield* new InvalidInput.InvalidInput({
        reason: { source: "options", issues: [{ field: "(input)", message: "an object of connector options" }] }
      })
    }
    const base: Record<string, unknown> = { ...(fromFile as Record<string, unknown>) }
    if (flags.multipath) base["useMultipath"] = true
    if (flags.enforceMultipath) base["enforceMultipath"] = true
    if (flags.noIfaceFallback) base["ifaceFallback"] = false
    if (Option.isSome(flags.iface)) base["iface"] = flags.iface.value
    if (Option.isSome(flags.scanAttempts)) base["deviceScanAttempts"] = flags.scanAttempts.value
    if (Option.isSome(flags.scanInterval)) base["deviceScanInterval"] = flags.scanInterval.value
    if (Option.isSome(flags.loginTimeout)) base["loginTimeout"] = flags.loginTimeout.value
    if (Option.isSome(flags.lockTimeout)) base["lockTimeout"] = flags.lockTimeout.value
    if (Option.isSome(flags.multipathTimeout)) base["multipathWaitTimeout"] = flags.multipathTimeout.value
    return base
  })

/** Reads `--options` and the flags, and decodes them as connector options. */
export const connectorOptions = (
  flags: OptionFlags
): Effect.Effect<ConnectorOptions.ConnectorOptions, InputUnreadable | InvalidInput.InvalidInput, Io> =>
  Effect.flatMap(optionsInput(flags), ConnectorOptions.decode)

/** Reads `--device FILE|-` and decodes it as the device info a connect printed. */
export const deviceInfo = (
  path: string
): Effect.Effect<DeviceInfo.DeviceInfo, InputUnreadable | InvalidInput.InvalidInput, Io> =>
  Effect.flatMap(Input.readJson("--device", "device_info", path), DeviceInfo.decode)

/** Refuses two documents on stdin at once. */
export const oneStdin = (
  paths: ReadonlyArray<readonly [string, string | undefined]>
): Effect.Effect<void, UsageError> => {
  const dashes = paths.filter(([, p]) => p === "-").map(([flag]) => flag)
  return dashes.length > 1
    ? Effect.fail(
      new UsageError({ command: "brick", problems: [`only one of ${dashes.join(", ")} can read stdin (-)`] })
    )
    : Effect.void
}
