/**
 * iscsid's database on a simulated host: iface records (the built-in
 * `default` and `iser`, those open-iscsi makes for present offload HBAs, and
 * custom ones) and node records with their settings.
 */
import type { IfaceName, Iqn, Iscsiadm, Portal } from "@brick/core"
import { Option } from "effect"
import { kernelIfacesOf } from "./SimHbaDriver.ts"
import type { SimIface, SimNode } from "./SimModel.ts"
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

/** The iface records a host starts with: built-in, then the spec's (then `setupHostBindings` adds the HBAs'). */
export const initialIfaces = (spec: SimSpec): ReadonlyArray<SimIface> => [
  builtin("default", "tcp"),
  builtin("iser", "iser"),
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

/**
 * What `iscsiadm -m iface` does first (open-iscsi's host bindings): for
 * each present offload host, an iface record per kernel iface
 * (`<transport>.<hwaddress>.ipv4.N`, with its address) or, without kernel
 * ifaces, `<transport>.<hwaddress>`; only when no record of that name
 * exists. Records stay when the driver goes.
 */
export const setupHostBindings = (st: SimState): void => {
  for (const hba of st.hbas) {
    if (!hba.host) continue
    const kernel = kernelIfacesOf(hba)
    const records = kernel.length > 0
      ? kernel.map((k) => ({ name: `${hba.transport}.${hba.hwaddress}.${k.family}.${k.num}`, ipaddress: k.address }))
      : [{ name: `${hba.transport}.${hba.hwaddress}`, ipaddress: undefined }]
    for (const r of records) {
      if (st.ifaces.has(r.name)) continue
      st.ifaces.set(r.name, {
        ...builtin(r.name, hba.transport),
        hwaddress: hba.hwaddress,
        ipaddress: r.ipaddress,
        builtin: false
      })
    }
  }
}

/** An iface record by name; one not found is looked up again after the host bindings are made, as iscsiadm does. */
export const ifaceNamed = (st: SimState, name: string): SimIface | undefined => {
  const found = st.ifaces.get(name)
  if (found) return found
  setupHostBindings(st)
  return st.ifaces.get(name)
}

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
