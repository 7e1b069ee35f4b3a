// The key of brick's code caches and startup snapshots (packages/cli/src/internal/CodeCache.ts,
// StartupSnapshot.ts): a hash of everything that decides what they hold and how node must run them,
// so a bundle that differs in any of it never takes another's file. A snapshot built with other V8
// flags than the prologue runs it with makes node exit 14 (brick's ReadOnlyDevice status), and the
// prologue cannot tell that from a current snapshot: the key must change with the flags.
import { createHash } from "node:crypto"

/**
 * The hash (24 hex digits) of the program's source, the node flags its snapshot is built and run
 * with, and the text of the launcher modules that run, cache and snapshot it.
 */
export const programHash = ({ source, nodeFlags, launcherTexts }) => {
  const hash = createHash("sha256")
  for (const part of [source, JSON.stringify(nodeFlags), ...launcherTexts]) {
    hash.update(String(Buffer.byteLength(part))).update(":").update(part)
  }
  return hash.digest("hex").slice(0, 24)
}
