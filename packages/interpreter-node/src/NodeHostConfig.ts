/**
 * How the node interpreter reaches the host: the root every host path is
 * resolved under, a prefix for every spawned command (`nsenter -t 1 -m -n --`,
 * `chroot /host`), the tools' paths and the commands' time limits.
 */
import { Context, Duration } from "effect"

/** The node interpreter's configuration. */
export interface NodeHostConfigShape {
  /** Host paths (/sys, /dev, /etc/iscsi, /run/brick) are resolved under this directory. */
  readonly root: string
  /** argv words put before every command, e.g. `["nsenter", "-t", "1", "-m", "-n", "--"]`. */
  readonly commandPrefix: ReadonlyArray<string>
  /**
   * The root as spawned commands see it, for the device paths passed to them
   * (`blockdev --flushbufs <commandRoot>/dev/sdb`). Defaults to `root` without
   * a command prefix and to `/` with one (a prefix such as `chroot /host` or
   * `nsenter` already puts the command in the host's view).
   */
  readonly commandRoot: string
  readonly iscsiadmPath: string
  readonly multipathdPath: string
  readonly multipathPath: string
  readonly blockdevPath: string
  /** iproute2's `ip` (the network interfaces' addresses). */
  readonly ipPath: string
  /** Time limit of an ordinary command; the process is killed when it passes. */
  readonly commandTimeout: Duration.Duration
  /** Time limit of commands that wait on the network: login, discovery. */
  readonly loginCommandTimeout: Duration.Duration
  /** Time limit of `multipathd show daemon` in `isRunning`. */
  readonly probeTimeout: Duration.Duration
  /** How long a killed command gets between SIGTERM and SIGKILL. */
  readonly killGrace: Duration.Duration
  /**
   * How new node records are made: `direct` writes them into open-iscsi's
   * database under its lock where brick can do so exactly as iscsiadm would
   * (the host's own iscsiadm, database in /etc/iscsi, the default iface, an
   * IPv4 portal: DirectRecords), saving two processes per new path;
   * `iscsiadm` always runs `-o new` and `-o update`.
   */
  readonly nodeRecordWrites: "direct" | "iscsiadm"
  /** Directory of the host locks, relative to `root`. */
  readonly lockDirectory: string
  /** How often a waiting lock retries. */
  readonly lockPollInterval: Duration.Duration
}

/** What a caller may give: any subset, durations in any effect spelling. */
export type NodeHostConfigInput =
  & Partial<
    Omit<
      NodeHostConfigShape,
      "commandTimeout" | "loginCommandTimeout" | "probeTimeout" | "killGrace" | "lockPollInterval"
    >
  >
  & {
    readonly commandTimeout?: Duration.Input
    readonly loginCommandTimeout?: Duration.Input
    readonly probeTimeout?: Duration.Input
    readonly killGrace?: Duration.Input
    readonly lockPollInterval?: Duration.Input
  }

/** The defaults: the real root, no prefix, tools found on PATH. */
export const defaults: NodeHostConfigShape = {
  root: "/",
  commandPrefix: [],
  commandRoot: "/",
  iscsiadmPath: "iscsiadm",
  multipathdPath: "multipathd",
  multipathPath: "multipath",
  blockdevPath: "blockdev",
  ipPath: "ip",
  commandTimeout: Duration.seconds(30),
  loginCommandTimeout: Duration.seconds(150),
  probeTimeout: Duration.seconds(3),
  killGrace: Duration.seconds(1),
  nodeRecordWrites: "direct",
  lockDirectory: "run/brick/locks",
  lockPollInterval: Duration.millis(25)
}

/** Fills the defaults in. */
export const make = (input: NodeHostConfigInput = {}): NodeHostConfigShape => {
  const d = (v: Duration.Input | undefined, fallback: Duration.Duration) =>
    v === undefined ? fallback : Duration.fromInputUnsafe(v)
  const root = input.root ?? defaults.root
  const commandPrefix = input.commandPrefix ?? defaults.commandPrefix
  return {
    root,
    commandPrefix,
    commandRoot: input.commandRoot ?? (commandPrefix.length === 0 ? root : "/"),
    iscsiadmPath: input.iscsiadmPath ?? defaults.iscsiadmPath,
    multipathdPath: input.multipathdPath ?? defaults.multipathdPath,
    multipathPath: input.multipathPath ?? defaults.multipathPath,
    blockdevPath: input.blockdevPath ?? defaults.blockdevPath,
    ipPath: input.ipPath ?? defaults.ipPath,
    commandTimeout: d(input.commandTimeout, defaults.commandTimeout),
    loginCommandTimeout: d(input.loginCommandTimeout, defaults.loginCommandTimeout),
    probeTimeout: d(input.probeTimeout, defaults.probeTimeout),
    killGrace: d(input.killGrace, defaults.killGrace),
    nodeRecordWrites: input.nodeRecordWrites ?? defaults.nodeRecordWrites,
    lockDirectory: input.lockDirectory ?? defaults.lockDirectory,
    lockPollInterval: d(input.lockPollInterval, defaults.lockPollInterval)
  }
}

/** The node interpreter's configuration as a service. */
export class NodeHostConfig extends Context.Service<NodeHostConfig, NodeHostConfigShape>()(
  "@brick/interpreter-node/NodeHostConfig"
) {}
