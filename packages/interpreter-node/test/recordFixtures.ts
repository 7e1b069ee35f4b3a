/** A node record, CHAP credentials and settings the record tests share, and a reader of record text. */
import { IfaceName, Iqn, type Iscsiadm, Portal } from "@brick/core"
import { Option, Redacted } from "effect"
import { expect } from "vitest"

export const node: Iscsiadm.NodeRecord = {
  iqn: Iqn.unsafeMake("iqn.2010-10.org.openstack:volume-1"),
  portal: Portal.unsafeMake("10.0.0.1:3260"),
  iface: IfaceName.defaultIface
}
export const address = { host: "10.0.0.1", port: 3260 }
export const chap: Iscsiadm.ChapCredentials = {
  username: "user1",
  password: Redacted.make("T0pS3cretChap"),
  usernameIn: Option.none(),
  passwordIn: Option.none()
}
export const settings: Iscsiadm.NodeSettings = {
  startup: "manual",
  scan: "manual",
  loginTimeout: 15,
  loginRetryMax: 1,
  auth: Option.some(chap)
}

/** name → value of a record's text (each name must appear once). */
export const linesOf = (text: string): Map<string, string> => {
  const m = new Map<string, string>()
  for (const line of text.split("\n")) {
    const hit = /^(\S+) = (.*)$/.exec(line)
    if (hit === null) continue
    expect(m.has(hit[1]!), `${hit[1]} twice`).toBe(false)
    m.set(hit[1]!, hit[2]!)
  }
  return m
}
