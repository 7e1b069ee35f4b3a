/**
 * Parsers of iscsiadm's output: discovery and `-m node` flat lines,
 * `-m node -P 1` trees, `-m session`, `-m iface` and record dumps
 * (`-m iface -I X`, `-m node … -o show`). Pure; lines that do not parse, or
 * whose names are not valid for brick's branded types, are skipped.
 */
import { IfaceName, Iqn, Portal } from "@brick/core"
import type { Iscsiadm } from "@brick/core"
import { Option } from "effect"

/** A `portal,tpgt iqn` line: discovery output and `iscsiadm -m node`. */
export interface TargetLine {
  readonly portal: Portal.Portal
  readonly tpgt: number
  readonly iqn: Iqn.Iqn
}

/** One line of `iscsiadm -m session`. */
export interface SessionLine {
  readonly transport: string
  readonly sid: number
  readonly portal: Portal.Portal
  readonly tpgt: number
  readonly iqn: Iqn.Iqn
  /** `(non-flash)` or `(flash)`. */
  readonly flash: boolean
}

const lines = (text: string): ReadonlyArray<string> => text.split(/\r?\n/)

/**
 * iscsiadm's spelling of a portal (`a.b.c.d:p`, `[v6]:p`, `host:p`, and the
 * unbracketed `::ffff:a.b.c.d:p` it prints for v6 addresses with a dot) as a
 * canonical Portal.
 */
export const parsePortal = (text: string): Portal.Portal | undefined => {
  const t = text.trim()
  let candidate: string
  if (t.startsWith("[")) {
    candidate = t
  } else {
    const i = t.lastIndexOf(":")
    if (i <= 0) return undefined
    const host = t.slice(0, i)
    candidate = host.includes(":") ? `[${host}]:${t.slice(i + 1)}` : t
  }
  const parts = Portal.parse(candidate)
  return parts === undefined ? undefined : (Portal.format(parts) as Portal.Portal)
}

/** iscsiadm prints an unknown tpgt as -1 or as its unsigned 32-bit form. */
const tpgtOf = (text: string): number => {
  const n = Number(text)
  return n >= 0x80000000 ? n - 0x100000000 : n
}

const iqnOf = (s: string): Iqn.Iqn | undefined => (Iqn.isIqn(s) ? (s as Iqn.Iqn) : undefined)

const targetLine = /^(\S+),(-?\d+)\s+(\S+)\s*$/

/** Parses `portal,tpgt iqn` lines (sendtargets discovery, `-m node`). */
export const parseTargets = (text: string): ReadonlyArray<TargetLine> =>
  lines(text).flatMap((line) => {
    const m = targetLine.exec(line.trim())
    if (!m) return []
    const portal = parsePortal(m[1]!)
    const iqn = iqnOf(m[3]!)
    return portal && iqn ? [{ portal, tpgt: tpgtOf(m[2]!), iqn }] : []
  })

/** Parses `iscsiadm -m node -P 1` (Target / Portal / Iface Name tree) into node records. */
export const parseNodeTree = (text: string): ReadonlyArray<Iscsiadm.NodeRecord> => {
  const out: Array<Iscsiadm.NodeRecord> = []
  let iqn: Iqn.Iqn | undefined
  let portal: Portal.Portal | undefined
  for (const raw of lines(text)) {
    const line = raw.trim()
    let m: RegExpExecArray | null
    if ((m = /^Target:\s*(\S+)$/.exec(line))) {
      iqn = iqnOf(m[1]!)
      portal = undefined
    } else if ((m = /^Portal:\s*(\S+?),(-?\d+)$/.exec(line))) {
      portal = parsePortal(m[1]!)
    } else if ((m = /^Iface Name:\s*(\S+)$/.exec(line))) {
      if (iqn && portal && IfaceName.isIfaceName(m[1]!)) {
        out.push({ iqn, portal, iface: m[1]! as IfaceName.IfaceName })
      }
    }
  }
  return out
}

const sessionLine = /^(\S+):\s+\[(\d+)\]\s+(\S+),(-?\d+)\s+(\S+)(?:\s+\((non-flash|flash)\))?\s*$/

/** Parses `iscsiadm -m session`. */
export const parseSessions = (text: string): ReadonlyArray<SessionLine> =>
  lines(text).flatMap((line) => {
    const m = sessionLine.exec(line.trim())
    if (!m) return []
    const portal = parsePortal(m[3]!)
    const iqn = iqnOf(m[5]!)
    return portal && iqn
      ? [{ transport: m[1]!, sid: Number(m[2]), portal, tpgt: tpgtOf(m[4]!), iqn, flash: m[6] === "flash" }]
      : []
  })

const field = (s: string | undefined): Option.Option<string> =>
  s === undefined || s === "" || s === "<empty>" ? Option.none() : Option.some(s)

/** Parses `iscsiadm -m iface`: `name transport,hwaddress,ipaddress,net_ifacename,initiatorname`. */
export const parseIfaces = (text: string): ReadonlyArray<Iscsiadm.IfaceRecord> =>
  lines(text).flatMap((line) => {
    const m = /^(\S+)\s+(\S+)$/.exec(line.trim())
    if (!m || !IfaceName.isIfaceName(m[1]!)) return []
    const f = m[2]!.split(",")
    if (f.length < 5) return []
    const transport = field(f[0])
    if (Option.isNone(transport)) return []
    return [{
      name: m[1]! as IfaceName.IfaceName,
      transport: transport.value,
      hwaddress: field(f[1]),
      ipaddress: field(f[2]),
      netIfacename: field(f[3]),
      // an initiator name may itself contain commas only in theory; keep the rest whole
      initiatorName: field(f.slice(4).join(","))
    }]
  })

/** Parses a record dump (`# BEGIN RECORD` … `name = value` …); `<empty>` becomes "". */
export const parseRecord = (text: string): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const raw of lines(text)) {
    const line = raw.trim()
    if (line.startsWith("#")) continue
    const i = line.indexOf(" = ")
    if (i <= 0) continue
    const value = line.slice(i + 3).trim()
    out.set(line.slice(0, i).trim(), value === "<empty>" ? "" : value)
  }
  return out
}

/** Reads an iface record dump (`iscsiadm -m iface -I X`). */
export const parseIfaceRecord = (text: string): Option.Option<Iscsiadm.IfaceRecord> => {
  const r = parseRecord(text)
  const name = r.get("iface.iscsi_ifacename")
  const transport = r.get("iface.transport_name")
  if (name === undefined || !IfaceName.isIfaceName(name) || !transport) return Option.none()
  return Option.some({
    name: name as IfaceName.IfaceName,
    transport,
    hwaddress: field(r.get("iface.hwaddress")),
    ipaddress: field(r.get("iface.ipaddress")),
    netIfacename: field(r.get("iface.net_ifacename")),
    initiatorName: field(r.get("iface.initiatorname"))
  })
}

/** The `InitiatorName=` of /etc/iscsi/initiatorname.iscsi (comments ignored). */
export const parseInitiatorName = (text: string): Option.Option<string> => {
  for (const raw of lines(text)) {
    const m = /^\s*InitiatorName\s*=\s*(\S+)\s*$/.exec(raw)
    if (m) return Option.some(m[1]!)
  }
  return Option.none()
}
