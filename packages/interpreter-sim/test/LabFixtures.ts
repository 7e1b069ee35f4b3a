/**
 * Readers for the real-host captures in lab/fixtures (lab/capture-fixtures.sh):
 * `grep -H .` attribute dumps, `ls -l[a]` listings and `find` outputs.
 */
import { readFileSync } from "node:fs"

/** A fixture's text. */
export const fixture = (name: string): string =>
  readFileSync(new URL(`../../../lab/fixtures/${name}`, import.meta.url), "utf8")

/** `grep -H . FILES` output: path → value (a multi-line file's lines joined with `\n`). */
export const grepValues = (name: string): Map<string, string> => {
  const out = new Map<string, string>()
  for (const line of fixture(name).split("\n")) {
    if (!line.startsWith("/")) continue
    // the value starts at the first ':' that does not continue the path (`connection1:0/…`, `0:0:0:0/…`)
    let cut = -1
    for (let i = line.indexOf(":"); i >= 0; i = line.indexOf(":", i + 1)) {
      if (!/^[\d:]+\//.test(line.slice(i + 1))) {
        cut = i
        break
      }
    }
    if (cut < 0) continue
    const path = line.slice(0, cut)
    const value = line.slice(cut + 1)
    out.set(path, out.has(path) ? `${out.get(path)}\n${value}` : value)
  }
  return out
}

/** One `ls -l` entry. */
export interface LsEntry {
  readonly name: string
  readonly kind: "dir" | "file" | "link"
  readonly target?: string
}

/** `ls -l[a] DIR...` output: directory → its entries (without `.` and `..`). */
export const lsListing = (name: string): Map<string, Array<LsEntry>> => {
  const out = new Map<string, Array<LsEntry>>()
  // a single-directory listing has no header: take the directory from the command
  const single = /^\$ ls -la? (\S+?)\/?$/m.exec(fixture(name.replace(/\.txt$/, ".cmd")))?.[1]
  let dir: string | undefined = single
  if (single !== undefined) out.set(single, [])
  for (const line of fixture(name).split("\n")) {
    const header = /^(\/\S+?)\/?:$/.exec(line)
    if (header) {
      dir = header[1]!
      out.set(dir, [])
      continue
    }
    const m = /^([dl-])[rwxst-]{9}\S*\s+\d+\s+\S+\s+\S+\s+\d+\s+\S+\s+\d+\s+[\d:]+\s+(.+)$/.exec(line)
    if (!m || dir === undefined) continue
    const [nameAndTarget, target] = m[2]!.split(" -> ")
    if (nameAndTarget === "." || nameAndTarget === "..") continue
    out.get(dir)!.push({
      name: nameAndTarget!,
      kind: m[1] === "d" ? "dir" : m[1] === "l" ? "link" : "file",
      ...(target === undefined ? {} : { target })
    })
  }
  return out
}

/** A fixture's non-comment, non-empty lines. */
export const lines = (name: string): Array<string> =>
  fixture(name).split("\n").filter((l) => l.length > 0 && !l.startsWith("#"))
