/**
 * The exit status of `brick`, one per kind of outcome. This table is a
 * public contract (scripts and CSI drivers branch on it): codes are never
 * reused or renumbered; new kinds get new codes. 64-78 follow BSD sysexits.
 */

/** Every exit status brick uses, by kind. */
export const exitCodes = {
  Ok: 0,
  Failed: 1,
  InvalidInput: 2,
  LoginFailed: 3,
  AuthenticationFailed: 4,
  DeviceNotFound: 5,
  MultipathNotFormed: 6,
  LockTimeout: 7,
  DisconnectFailed: 8,
  ExtendFailed: 9,
  IfaceUnusable: 10,
  HostToolFailed: 11,
  PermissionDenied: 12,
  DiscoveryFailed: 13,
  ReadOnlyDevice: 14,
  Usage: 64,
  InputUnreadable: 66,
  Internal: 70,
  Interrupted: 130
} as const

/** A kind of outcome. */
export type Kind = keyof typeof exitCodes

/** What each kind means. */
export const descriptions: { readonly [K in Kind]: string } = {
  Ok: "success",
  Failed: "a failure no other kind describes",
  InvalidInput: "connection info, options or device info refused (the error names each field), or not JSON",
  LoginFailed: "no path could log in (portal unreachable, login refused or timed out)",
  AuthenticationFailed: "the target refused the CHAP credentials on every path",
  DeviceNotFound: "logged in, but no block device of the volume appeared (or the volume is not attached)",
  MultipathNotFormed: "multipath enforced, and multipathd is not running or no map formed in time",
  LockTimeout: "the host-wide lock of a target was not had in time",
  DisconnectFailed: "a disconnect could not remove the volume's devices (in use, flush failed, logout failed)",
  ExtendFailed: "the volume's new size could not be had or verified on every path (a path down, sizes disagree)",
  IfaceUnusable: "the requested iface cannot be used and fallback to `default` is off",
  HostToolFailed: "iscsiadm, iscsid, multipathd, blockdev or ip missing, unreachable or failing unexpectedly",
  PermissionDenied: "the host refused an access (not root, read-only sysfs)",
  DiscoveryFailed: "sendtargets discovery failed or did not list the target",
  ReadOnlyDevice: "access_mode rw, and the device stayed read-only (write-protected LUN or read-only map)",
  Usage: "the command line is wrong (unknown command or flag, missing or malformed flag value)",
  InputUnreadable: "a file named on the command line (or stdin) could not be read",
  Internal: "a bug in brick (a defect); the message says what",
  Interrupted: "interrupted by SIGINT/SIGTERM; cleanup ran"
}

/** The exit status of a kind. */
export const exitCode = (kind: Kind): number => exitCodes[kind]

/** The table as Markdown (packages/cli/README.md carries it verbatim; a test checks). */
export const markdown = (): string =>
  [
    "| exit | kind | meaning |",
    "| ---: | --- | --- |",
    ...(Object.keys(exitCodes) as Array<Kind>).map((k) => `| ${exitCodes[k]} | ${k} | ${descriptions[k]} |`)
  ].join("\n")
