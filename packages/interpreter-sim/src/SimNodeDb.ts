/**
 * iscsid's database on a simulated host: iface records (the built-in
 * `default` and `iser`, one per offload HBA, and custom ones) and node
 * records with their settings.
 */
import type { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Option } from "effect"
import type { SimHba, SimIface, SimNode } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import type { SimSpec } from "./SimSpec.ts"
import type { SimState } from "./SimState.ts"

const builtin = (name: string, transport: string): SimIface => ({
  name,
  transport,
  hwaddress: undefined,
  ipaddress: undefined,
  netIfacename: undefined,
  initiatorName: undefined,
  builtin: true
})

/** The iface records a host starts with: built-in, one per HBA (`<transport>.<hwaddress>`), then the spec's. */
export const initialIfaces = (spec: SimSpec, hbas: ReadonlyArray<SimHba>): ReadonlyArray<SimIface> => [
  builtin("default", "tcp"),
  builtin("iser", "iser"),
  ...hbas.map((hba) => ({
    ...builtin(`${hba.transport}.${hba.hwaddress}`, hba.transport),
    hwaddress: hba.hwaddress,
    builtin: false
  })),
  ...(spec.ifaces ?? []).map((i) => ({
    name: i.name,
    transport: i.transport === "default" ? "tcp" : i.transport,
    hwaddress: i.hwaddress,
    ipaddress: i.ipaddress,
    netIfacename: i.netIfacename,
    initiatorName: i.initiatorName,
    builtin: false
  }))
]

/** A new node record with iscsid.conf's defaults (not stored). */
export const makeNode = (st: SimState, portal: string, iqn: string, iface: string): SimNode => {
  const d = st.nodeDefaults
  return {
    key: SimNames.nodeKey(portal, iqn, iface),
    portal,
    iqn,
    iface,
    settings: {
      startup: d.startup,
      scan: d.scan,
      auth: undefined,
      loginTimeout: d.loginTimeout,
      loginRetryMax: d.loginRetryMax
    }
  }
}

/** Applies the settings `-o update` is given. */
export const applySettings = (n: SimNode, s: Iscsiadm.NodeSettings): void => {
  if (s.startup !== undefined) n.settings.startup = s.startup
  if (s.scan !== undefined) n.settings.scan = s.scan
  if (s.auth !== undefined) n.settings.auth = Option.getOrUndefined(s.auth)
  if (s.loginTimeout !== undefined) n.settings.loginTimeout = s.loginTimeout
  if (s.loginRetryMax !== undefined) n.settings.loginRetryMax = s.loginRetryMax
}

/** The node records, in the order `iscsiadm -m node` lists them (by key). */
export const records = (st: SimState): Array<Iscsiadm.NodeRecord> =>
  Array.from(st.nodes.keys()).sort().map((key) => {
    const n = st.nodes.get(key)!
    return { portal: n.portal as Portal.Portal, iqn: n.iqn as Iqn.Iqn, iface: n.iface as IfaceName.IfaceName }
  })
