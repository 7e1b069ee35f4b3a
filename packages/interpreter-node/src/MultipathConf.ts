/**
 * What multipath-tools reads of the host's files: `find_multipaths` from the
 * `defaults` section of /etc/multipath.conf and of /etc/multipath/conf.d/*.conf
 * (read after it, in name order; the last setting wins), and the WWIDs of
 * /etc/multipath/wwids (one `/WWID/` a line). With no setting, multipath-tools'
 * built-in default `strict`.
 */
import type { Multipath } from "@brick/core"
import * as NodeFsSync from "node:fs"
import { readText } from "./internal/files.ts"
import * as RootPath from "./RootPath.ts"

/** Where multipath's configuration, its drop-in directory and its wwids file are. */
export const confPath = "/etc/multipath.conf"
export const confDir = "/etc/multipath/conf.d"
export const wwidsPath = "/etc/multipath/wwids"

/** multipath-tools' built-in `find_multipaths`. */
export const builtInFindMultipaths: Multipath.FindMultipaths = "strict"

/** A `find_multipaths` value as multipath-tools reads it, or undefined when it is not one. */
export const findMultipathsValue = (raw: string): Multipath.FindMultipaths | undefined => {
  const v = raw.replace(/^"(.*)"$/, "$1").toLowerCase()
  if (v === "no" || v === "off" || v === "0") return "no"
  if (v === "yes" || v === "on" || v === "1") return "yes"
  return v === "strict" || v === "smart" || v === "greedy" ? v : undefined
}

/** The `find_multipaths` a config file's text sets in its `defaults` section, if any (the last one). */
export const findMultipathsOf = (text: string): Multipath.FindMultipaths | undefined => {
  const sections: Array<string> = []
  let found: Multipath.FindMultipaths | undefined
  for (const raw of text.split("\n")) {
    const words = raw.replace(/[#!].*$/, "").trim().split(/\s+/).filter(Boolean)
    if (words.length === 0) continue
    if (words[0] === "}") {
      sections.pop()
      continue
    }
    if (words.at(-1) === "{") {
      sections.push(words[0] === "{" ? "" : words[0]!)
      continue
    }
    if (sections.length === 1 && sections[0] === "defaults" && words[0] === "find_multipaths" && words[1]) {
      found = findMultipathsValue(words[1]) ?? found
    }
  }
  return found
}

/** The effective `find_multipaths` of the configuration under `root`. */
export const findMultipaths = (root: string): Multipath.FindMultipaths => {
  const dir = RootPath.resolve(root, confDir)
  let dropIns: Array<string> = []
  try {
    dropIns = NodeFsSync.readdirSync(dir).filter((f) => f.endsWith(".conf")).sort()
  } catch {
    // no drop-in directory
  }
  let mode: Multipath.FindMultipaths = builtInFindMultipaths
  for (const file of [RootPath.resolve(root, confPath), ...dropIns.map((f) => `${dir}/${f}`)]) {
    mode = findMultipathsOf(readText(file) ?? "") ?? mode
  }
  return mode
}

/** The WWIDs a wwids file's text lists. */
export const wwidsOf = (text: string): ReadonlyArray<string> =>
  text.split("\n").flatMap((l) => {
    const m = /^\/([^/]+)\/\s*$/.exec(l.trim())
    return m ? [m[1]!] : []
  })

/** Whether the wwids file under `root` lists `wwid`. */
export const wwidKnown = (root: string, wwid: string): boolean =>
  wwidsOf(readText(RootPath.resolve(root, wwidsPath)) ?? "").includes(wwid)
