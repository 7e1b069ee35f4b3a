/**
 * The flags every `brick` command accepts, before or after the command name:
 * where the host is (`--root`, `--iscsiadm`, `--command-prefix`, ...) and the
 * connector options (`--multipath`, `--iface`, `--options FILE`, ...).
 * `--log-level` is effect's built-in global flag.
 */
import { Effect, Option } from "effect"
import { Flag, GlobalFlag } from "effect/cli"

const text = <const N extends string>(name: N, description: string, metavar: string) =>
  GlobalFlag.Setting(name)({
    flag: Flag.String(name).pipe(Flag.withDescription(description), Flag.withMetavar(metavar), Flag.optional)
  })
const int = <const N extends string>(name: N, description: string, metavar: string) =>
  GlobalFlag.Setting(name)({
    flag: Flag.Int(name).pipe(Flag.withDescription(description), Flag.withMetavar(metavar), Flag.optional)
  })
const bool = <const N extends string>(name: N, description: string) =>
  GlobalFlag.Setting(name)({
    flag: Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false))
  })

/** `--root DIR` */
export const Root = text("root", "resolve /sys, /dev, /etc/iscsi and /run/brick under DIR (default /)", "DIR")
/** `--iscsiadm PATH` */
export const IscsiadmPath = text("iscsiadm", "the iscsiadm program (default: iscsiadm on PATH)", "PATH")
/** `--multipathd PATH` */
export const MultipathdPath = text("multipathd", "the multipathd program (default: multipathd on PATH)", "PATH")
/** `--command-prefix WORDS` */
export const CommandPrefix = text(
  "command-prefix",
  "words put before every host command, split on spaces, e.g. \"nsenter -t 1 -m -n --\"",
  "WORDS"
)
/** `--iscsiadm-records` */
export const IscsiadmRecords = bool(
  "iscsiadm-records",
  "make new node records with iscsiadm -o new and -o update instead of writing them into open-iscsi's database"
)
/** `--options FILE|-` */
export const OptionsFile = text("options", "connector options as JSON (camelCase); the flags below override it", "FILE")
/** `--multipath` */
export const Multipath = bool("multipath", "log into every portal and return the multipath device (useMultipath)")
/** `--enforce-multipath` */
export const EnforceMultipath = bool("enforce-multipath", "with --multipath: fail when no multipath map forms")
/** `--iface NAME` */
export const Iface = text("iface", "the open-iscsi iface record to log in through (default: default)", "NAME")
/** `--no-iface-fallback` */
export const NoIfaceFallback = bool("no-iface-fallback", "fail instead of falling back to the default iface")
/** `--scan-attempts N` */
export const ScanAttempts = int("scan-attempts", "targeted scans before giving up on a LUN (deviceScanAttempts)", "N")
/** `--scan-interval MS` */
export const ScanInterval = int(
  "scan-interval",
  "milliseconds from the first scan to the next, doubling after each (deviceScanInterval)",
  "MS"
)
/** `--login-timeout S` */
export const LoginTimeout = int("login-timeout", "seconds a login may take (loginTimeout)", "S")
/** `--lock-timeout S` */
export const LockTimeout = int(
  "lock-timeout",
  "seconds to wait for a target's host lock while one holder keeps it (lockTimeout)",
  "S"
)
/** `--multipath-timeout S` */
export const MultipathTimeout = int(
  "multipath-timeout",
  "seconds to wait for the multipath map (multipathWaitTimeout)",
  "S"
)

/** Every global flag brick adds to effect's built-ins. */
export const all = [
  Root,
  IscsiadmPath,
  MultipathdPath,
  CommandPrefix,
  IscsiadmRecords,
  OptionsFile,
  Multipath,
  EnforceMultipath,
  Iface,
  NoIfaceFallback,
  ScanAttempts,
  ScanInterval,
  LoginTimeout,
  LockTimeout,
  MultipathTimeout
] as const

/** The host-side flags, as given. */
export interface HostFlags {
  readonly root: Option.Option<string>
  readonly iscsiadm: Option.Option<string>
  readonly multipathd: Option.Option<string>
  readonly commandPrefix: Option.Option<string>
  readonly iscsiadmRecords: boolean
}

/** The connector-option flags, as given. */
export interface OptionFlags {
  readonly optionsFile: Option.Option<string>
  readonly multipath: boolean
  readonly enforceMultipath: boolean
  readonly iface: Option.Option<string>
  readonly noIfaceFallback: boolean
  readonly scanAttempts: Option.Option<number>
  readonly scanInterval: Option.Option<number>
  readonly loginTimeout: Option.Option<number>
  readonly lockTimeout: Option.Option<number>
  readonly multipathTimeout: Option.Option<number>
}

/** Reads the host flags. */
export const hostFlags = Effect.gen(function*() {
  return {
    root: yield* Root,
    iscsiadm: yield* IscsiadmPath,
    multipathd: yield* MultipathdPath,
    commandPrefix: yield* CommandPrefix,
    iscsiadmRecords: yield* IscsiadmRecords
  } satisfies HostFlags
})

/** Reads the connector-option flags. */
export const optionFlags = Effect.gen(function*() {
  return {
    optionsFile: yield* OptionsFile,
    multipath: yield* Multipath,
    enforceMultipath: yield* EnforceMultipath,
    iface: yield* Iface,
    noIfaceFallback: yield* NoIfaceFallback,
    scanAttempts: yield* ScanAttempts,
    scanInterval: yield* ScanInterval,
    loginTimeout: yield* LoginTimeout,
    lockTimeout: yield* LockTimeout,
    multipathTimeout: yield* MultipathTimeout
  } satisfies OptionFlags
})
