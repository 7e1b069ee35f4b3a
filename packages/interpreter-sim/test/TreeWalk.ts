/**
 * Whole-tree dumps of a simulated host's /sys + /dev view (every listed
 * directory, file content and link target, links not followed), and a
 * scripted workout that drives a host through many states: the tests compare
 * the live view against one derived afresh.
 */
import { Iscsiadm, Sysfs } from "@brick/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { SimHost } from "../src/index.ts"
import { SimMultipathd, SimView } from "../src/index.ts"
import type { VNode } from "../src/SimTree.ts"
import { node, path } from "./helpers.ts"

/** Every node under `root` by path: `dir: a,b`, `file: text`, `write-only`, or `link: target`. */
export const dump = (root: VNode, at = ""): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (n: VNode, p: string) => {
    if (n.kind === "dir") {
      const names = Array.from(n.entries()).sort()
      out[p || "/"] = `dir: ${names.join(",")}`
      for (const name of names) {
        const c = n.child(name)
        if (c === undefined) out[`${p}/${name}`] = "listed but absent"
        else walk(c, `${p}/${name}`)
      }
    } else if (n.kind === "file") {
      out[p] = n.read ? `file: ${n.read()}` : "write-only"
    } else {
      out[p] = `link: ${n.target}`
    }
  }
  walk(root, at)
  return out
}

/** The live view and a freshly derived one, dumped. */
export const liveAndFresh = (host: SimHost.SimHost) => ({
  live: dump(host.view),
  fresh: dump(SimView.make(host.state))
})

/** Records dumps of a host's live view at the named points of `workout`. */
export type Checkpoint = (label: string) => void

/**
 * Drives `host` through logins (plain, by HBA, on a custom iface), scans,
 * udev and multipathd delays, maps, a failed and recovered portal, LUN
 * resize/removal, device deletion, rescans, logouts and a transport unload,
 * calling `check` after each step (under a TestClock).
 */
export const workout = (
  host: SimHost.SimHost,
  iqn: string,
  portals: ReadonlyArray<string>,
  ifaces: ReadonlyArray<string>,
  check: Checkpoint
) =>
  Effect.gen(function*() {
    const adm = yield* Iscsiadm.Iscsiadm
    const fs = yield* Sysfs.Sysfs
    check("start")
    host.preattach(3, { multipath: true })
    check("preattached")
    for (const p of portals) {
      yield* adm.createNode(node(p, iqn), {})
      yield* adm.login(node(p, iqn))
    }
    check("logged in")
    for (const i of ifaces) {
      yield* adm.createNode(node(portals[0], iqn, i), {})
      yield* adm.login(node(portals[0], iqn, i))
    }
    check("logged in through other ifaces")
    yield* TestClock.adjust("1 second")
    yield* host.settle
    check("udev and multipathd done")
    host.portalDown(portals[0]!)
    check("portal down")
    yield* TestClock.adjust("10 seconds")
    yield* host.settle
    check("recovery timeout passed")
    host.portalUp(portals[0]!)
    host.resizeLun(iqn, 1, 3 << 30)
    for (const d of host.state.disks.values()) {
      if (d.session.iqn === iqn) yield* fs.write(path(`/sys/block/${d.name}/device/rescan`), "1")
    }
    check("portal up, resized and rescanned")
    const first = Array.from(host.state.disks.values()).find((d) => d.session.iqn === iqn)
    if (first) yield* fs.write(path(`/sys/block/${first.name}/device/delete`), "1")
    check("one device deleted")
    for (const s of host.state.sessions.values()) {
      if (s.iqn === iqn) yield* fs.write(path(`/sys/class/scsi_host/host${s.host.no}/scan`), "- - -")
    }
    yield* TestClock.adjust("1 second")
    yield* host.settle
    check("rescanned the hosts")
    for (const m of Array.from(host.state.maps.values())) SimMultipathd.flushMap(host.state, m)
    check("maps flushed")
    yield* adm.logout(node(portals[1]!, iqn))
    check("one logout")
    host.removeLun(iqn, 2)
    host.addLun(iqn, { lun: 2 })
    for (const s of host.state.sessions.values()) {
      if (s.iqn === iqn) yield* fs.write(path(`/sys/class/scsi_host/host${s.host.no}/scan`), "- - -")
    }
    yield* TestClock.adjust("1 second")
    yield* host.settle
    check("LUN 2 replaced and scanned")
    for (const p of portals) yield* Effect.ignore(adm.logout(node(p, iqn)))
    for (const i of ifaces) yield* Effect.ignore(adm.logout(node(portals[0], iqn, i)))
    check("all logged out")
  })
