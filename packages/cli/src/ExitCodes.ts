/**
 * The exit status of `brick`, one per kind of error. This table is a public
 * contract (scripts and CSI drivers branch on it): codes are never reused or
 * renumbered; new kinds get new codes. 64-78 follow BSD sysexits.
 */

/** Every exit status brick uses, by kind. */
export const exitCodes = {
  /** Success. */
  Ok: 0,
  /** A failure no other kind describes. */
  Failed: 1,
  /** connection info, options or device info refused (names the field); malformed JSON. */
  InvalidInput: 2,
  /** No path could log in (target unreachable, login refused or timed out). */
  LoginFailed: 3,
  /** The target refused the CHAP credentials (session or discovery). */
  AuthenticationFailed: 4,
  /** Logged in, but the LUN's block device never appeared (or is not the volume's). */
  DeviceNotFound: 5,
  /** enforceMultipath is set and no multipath map formed. */
  MultipathNotFormed: 6,
  /** The host-wide lock of a target was not had in time. */
  LockTimeout: 7,
  /** A disconnect could not remove the volume's devices (in use, flush failed). */
  DisconnectFailed: 8,
  /** The new size of an extended volume could not be had. */
  ExtendFailed: 9,
  /** The requested iface cannot be used and fallback to `default` is off. */
  IfaceUnusable: 10,
  /** iscsiadm, iscsid, multipathd or blockdev is missing, unreachable or failed unexpectedly. */
  HostToolFailed: 11,
  /** The host refused an access (not root, read-only sysfs). */
  PermissionDenied: 12,
  /** Sendtargets discovery failed or did not list the target. */
  DiscoveryFailed: 13,
  /** The command line is wrong (unknown command or flag, missing or malformed flag value). */
  Usage: 64,
  /** A file named on the command line (or stdin) could not be read. */
  InputUnreadable: 66,
  /** A bug in brick (a defect); the message says where. */
  Internal: 70,
  /** Interrupted (SIGINT/SIGTERM) before it finished. */
  Interrupted: 130
} as const

/** A kind of outcome. */
export type Kind = keyof typeof exitCodes

/** The exit status of a kind. */
export const exitCode = (kind: Kind): number => exitCodes[kind]

/** The table as Markdown rows (the README's table is generated from it). */
export const markdown = (): string =>
  ["| exit | kind |", "| ---: | --- |", ...Object.entries(exitCodes).map(([k, c]) => `| ${c} | ${k} |`)].join("\n")
