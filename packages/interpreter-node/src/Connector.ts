/**
 * A Promise facade over brick's programs on a real host, for callers that do
 * not use Effect:
 *
 *     const connector = createConnector({ options: { useMultipath: true } })
 *     const device = await connector.connectVolume(connectionInfo)
 *     await connector.disconnectVolume(connectionInfo, device)
 *
 * Input is decoded before anything touches the host. Every failure rejects
 * with a `BrickError` (`tag`, `reason`, the error's own fields, never a
 * secret, never a stack of effect internals). `layer` runs the same programs
 * on another host (e.g. the simulator's `SimHost.layer`).
 */
import {
  ConnectionInfo,
  ConnectorOptions as CoreOptions,
  ConnectorProperties,
  ConnectVolume,
  DeviceInfo,
  DisconnectVolume,
  ExtendVolume,
  type IscsiServices,
  VolumePaths
} from "@brick/core"
import * as NodeServices from "@effect/platform-node/NodeServices"
import {
  Cause,
  Duration,
  Effect,
  Exit,
  Layer,
  Logger,
  type LogLevel,
  ManagedRuntime,
  Option,
  Redacted,
  References
} from "effect"
import * as NodeHost from "./NodeHost.ts"
import type { NodeHostConfigInput } from "./NodeHostConfig.ts"

/** The services the programs need. */
export type HostServices = IscsiServices

/** One log record handed to `onLog`. */
export interface LogRecord {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

/** How to create a connector. */
export interface CreateConnectorOptions {
  /** Connector options (camelCase, as `@brick/core`'s ConnectorOptions); decoded at once. */
  readonly options?: CoreOptions.ConnectorOptionsInput | Record<string, unknown>
  /** The real host: root, command prefix, tool paths, timeouts. Ignored with `layer`. */
  readonly host?: NodeHostConfigInput
  /** Another host to run on (e.g. a simulator); default: NodeHost.layer(host). */
  readonly layer?: Layer.Layer<HostServices>
  /** Receives brick's log records (secrets are never in them); default: no logging. */
  readonly onLog?: (record: LogRecord) => void
  /** The least level passed to `onLog` (default `Info`). */
  readonly logLevel?: LogLevel.LogLevel
}

/** Options of a disconnect (os-brick's). */
export interface DisconnectOptions {
  /** Go on past failing steps, then reject listing them all. */
  readonly force?: boolean
  /** Go on past failing steps and resolve (they are logged). */
  readonly ignoreErrors?: boolean
  /** Also the volume's sessions and devices through other ifaces than brick's (another tool's). */
  readonly otherIfaces?: boolean
}

/** The device a connect returns (os-brick's shape), JSON-ready. */
export type Device = DeviceInfo.DeviceInfo

/** brick's programs as Promises. */
export interface Connector {
  /**
   * Attaches a volume (Cinder's connection_info or its data); resolves to its
   * device. On a volume already attached it adds the paths that are missing.
   * `device` (what an earlier connectVolume returned; optional) pins the
   * volume's WWN.
   */
  readonly connectVolume: (info: unknown, device?: unknown) => Promise<Device>
  /** Detaches a volume; `device` is what connectVolume returned (recommended). */
  readonly disconnectVolume: (info: unknown, device?: unknown, options?: DisconnectOptions) => Promise<void>
  /** Rescans a grown volume; resolves to its new size in bytes. */
  readonly extendVolume: (info: unknown) => Promise<number>
  /** The volume's candidate /dev/disk/by-path paths. */
  readonly getVolumePaths: (info: unknown) => Promise<ReadonlyArray<string>>
  /** What this host tells Cinder about itself for iSCSI. */
  readonly getConnectorProperties: () => Promise<ConnectorProperties.ConnectorProperties>
  /** Releases the host layer's resources. */
  readonly close: () => Promise<void>
}

/**
 * A failure of a connector call. `tag` is the error's tag (`InvalidInput`,
 * `ConnectError`, `DisconnectError`, `ExtendError`, `PropertiesError`, or
 * `Defect`/`Interrupted`), `reason` its reason, `fields` its other fields.
 */
export class BrickError extends Error {
  override readonly name = "BrickError"
  constructor(
    readonly tag: string,
    message: string,
    readonly reason: unknown,
    readonly fields: Readonly<Record<string, unknown>>
  ) {
    super(message)
  }
  /** The fields InvalidInput refused (empty for other errors). */
  get invalidFields(): ReadonlyArray<string> {
    const issues = (this.reason as { issues?: ReadonlyArray<{ field: string }> } | undefined)?.issues
    return this.tag === "InvalidInput" && Array.isArray(issues) ? issues.map((i) => i.field) : []
  }
  /** JSON form: `{error, message, reason, ...fields}`. */
  toJSON(): Record<string, unknown> {
    return { error: this.tag, message: this.message, reason: this.reason, ...this.fields }
  }
}

const plain = (value: unknown, depth = 0): unknown => {
  if (depth > 12 || value === null || value === undefined) return value ?? null
  if (typeof value !== "object") return typeof value === "bigint" ? value.toString() : value
  if (Redacted.isRedacted(value)) return "<redacted>"
  if (Option.isOption(value)) return Option.isSome(value) ? plain(value.value, depth + 1) : null
  if (Duration.isDuration(value)) return Duration.toMillis(value)
  if (Array.isArray(value)) return value.map((v) => plain(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) if (typeof v !== "function") out[k] = plain(v, depth + 1)
  return out
}

const firstLine = (e: unknown): string =>
  (typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e))
    .split("\n")[0] ?? ""

/** The BrickError of a failed call. */
export const toBrickError = (cause: Cause.Cause<unknown>): BrickError => {
  const fail = cause.reasons.find(Cause.isFailReason)
  if (fail !== undefined) {
    const e = fail.error as { _tag?: unknown; reason?: unknown }
    const { _tag, reason, stack: _stack, message: _message, ...rest } = plain(e) as Record<string, unknown>
    return new BrickError(typeof e._tag === "string" ? e._tag : "Error", firstLine(e), plain(e.reason) ?? null, rest)
  }
  const die = cause.reasons.find(Cause.isDieReason)
  if (die !== undefined) return new BrickError("Defect", `internal error: ${firstLine(die.defect)}`, null, {})
  return new BrickError("Interrupted", "interrupted", null, {})
}

const logger = (onLog: (record: LogRecord) => void) =>
  Logger.make((o) => {
    const s = Logger.formatStructured.log(o)
    const message = Array.isArray(o.message)
      ? o.message.map((m) => (typeof m === "string" ? m : JSON.stringify(plain(m)))).join(" ")
      : String(o.message)
    onLog({ level: s.level, message, annotations: plain(s.annotations) as Record<string, unknown> })
  })

/**
 * Creates a connector. Throws a BrickError (InvalidInput, naming the field)
 * at once when `options.options` is invalid.
 */
export const createConnector = (config: CreateConnectorOptions = {}): Connector => {
  const decoded = Effect.runSyncExit(CoreOptions.decode(config.options ?? {}))
  if (Exit.isFailure(decoded)) throw toBrickError(decoded.cause)
  const options = decoded.value
  const host = config.layer ?? NodeHost.layer(config.host ?? {}).pipe(Layer.provide(NodeServices.layer))
  const logging = config.onLog === undefined
    ? Logger.layer([])
    : Layer.merge(
      Logger.layer([logger(config.onLog)]),
      Layer.succeed(References.MinimumLogLevel, config.logLevel ?? "Info")
    )
  const runtime = ManagedRuntime.make(Layer.merge(host, logging))
  const run = async <A>(effect: Effect.Effect<A, unknown, HostServices>): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isFailure(exit)) throw toBrickError(exit.cause)
    return exit.value
  }
  const decodeInfo = (info: unknown) => ConnectionInfo.decode(info)
  const decodeDevice = (device: unknown) =>
    device === undefined || device === null
      ? Effect.succeed(Option.none<DeviceInfo.DeviceInfo>())
      : Effect.map(DeviceInfo.decode(device), Option.some)
  return {
    connectVolume: (info, device) =>
      run(Effect.gen(function*() {
        const data = yield* decodeInfo(info)
        return yield* ConnectVolume.connect(data, options, yield* decodeDevice(device))
      })),
    disconnectVolume: (info, device, flags = {}) =>
      run(Effect.gen(function*() {
        const data = yield* decodeInfo(info)
        yield* DisconnectVolume.disconnect(data, options, yield* decodeDevice(device), flags)
      })),
    extendVolume: (info) => run(Effect.flatMap(decodeInfo(info), ExtendVolume.extend)),
    getVolumePaths: (info) => run(Effect.flatMap(decodeInfo(info), (data) => VolumePaths.volumePaths(data, options))),
    getConnectorProperties: () => run(ConnectorProperties.properties(options)),
    close: () => runtime.dispose()
  }
}
