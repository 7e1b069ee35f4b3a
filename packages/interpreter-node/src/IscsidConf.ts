/**
 * iscsid.conf's `node.*` settings as open-iscsi reads them (idbm_recinfo_config),
 * quirks included: a new record made by brick starts from them, as one made by
 * `iscsiadm -o new` does.
 */
import { Buffer } from "node:buffer"
import { readText } from "./internal/files.ts"
import * as RootPath from "./RootPath.ts"

/** Where iscsid.conf is, under the host's root. */
export const path = "/etc/iscsi/iscsid.conf"

/** The longest line open-iscsi reads (its 2048-byte buffer, with the line break and NUL). */
const maxLineBytes = 2048

const isSpace = (c: string | undefined) => c !== undefined && " \t\n\v\f\r".includes(c)

/**
 * One config line as open-iscsi reads it: the line is stripped; blank and `#`
 * lines are skipped; the name ends at a blank or `=`; one character after it
 * is skipped, then blanks, and then there must be `=` (so `a=1` and `a= 1`
 * are skipped, `a =1` is read); blanks after it are skipped and the rest is
 * the value, which must not be empty.
 */
export const confLine = (raw: string): readonly [string, string] | undefined => {
  const line = raw.trim()
  if (line === "" || line.startsWith("#")) return undefined
  let i = 0
  while (i < line.length && !isSpace(line[i]) && line[i] !== "=") i++
  if (i >= line.length) return undefined
  const name = line.slice(0, i)
  i++
  while (i < line.length && isSpace(line[i])) i++
  if (i < line.length && line[i] !== "=") return undefined
  i++
  while (i < line.length && isSpace(line[i])) i++
  if (i >= line.length) return undefined
  return [name, line.slice(i)]
}

/**
 * The `node.*` settings of iscsid.conf's text, in order (see confLine; a line
 * too long for open-iscsi's buffer, or without a line break at the end of the
 * file, is skipped).
 */
export const confSettings = (text: string): ReadonlyArray<readonly [string, string]> => {
  const out: Array<readonly [string, string]> = []
  // the part after the last line break has none, and open-iscsi skips such a line
  for (const raw of text.split("\n").slice(0, -1)) {
    if (Buffer.byteLength(raw) + 2 > maxLineBytes) continue
    const setting = confLine(raw)
    if (setting !== undefined && setting[0].startsWith("node.")) out.push(setting)
  }
  return out
}

/** The `node.*` settings of the iscsid.conf under `root` (none when it cannot be read). */
export const read = (root: string): ReadonlyArray<readonly [string, string]> =>
  confSettings(readText(RootPath.resolve(root, path)) ?? "")
