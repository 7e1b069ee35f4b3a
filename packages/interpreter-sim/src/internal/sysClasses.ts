/**
 * /sys of a simulated host: the device tree (/sys/devices: software hosts
 * under platform, offload HBAs' hosts under their PCI device, dm maps and
 * transports under virtual) and the class directories (/sys/class/…,
 * /sys/block) whose entries link into it.
 */
import { driverOf } from "../SimHbaDriver.ts"
import type { SimScsiHost, SimSession } from "../SimModel.ts"
import * as SimMultipathd from "../SimMultipathd.ts"
import * as SimNames from "../SimNames.ts"
import type { SimState } from "../SimState.ts"
import { dynamic, empty, fixed, link, text, type VNode } from "../SimTree.ts"
import { dm } from "./sysBlock.ts"
import { power, uevent } from "./sysCommon.ts"
import { blockDir, connectionDir, deviceDir, dmDir, hostDir, kernelIfaceDir, sessionDir } from "./sysPaths.ts"
import { host, kernelIfacesOfHost } from "./sysSessions.ts"

/** The session named `<prefix><sid><suffix>`. */
const sessionNamed = (st: SimState, name: string, prefix: string, suffix = ""): SimSession | undefined => {
  if (!name.endsWith(suffix)) return undefined
  const sid = SimNames.numbered(name.slice(0, name.length - suffix.length), prefix)
  return sid === undefined ? undefined : st.sessions.get(sid)
}

/** The SCSI host named `host<no>`. */
const hostNamed = (st: SimState, name: string): SimScsiHost | undefined => {
  const no = SimNames.numbered(name, "host")
  return no === undefined ? undefined : st.hosts.get(no)
}

/** The dm devices' names (`dm-<minor>`). */
const dmNames = (st: SimState): Array<string> => Array.from(st.maps.values(), (m) => `dm-${m.minor}`)

/** A directory of the block devices (disks, then dm maps), each a link to its directory in the device tree. */
const blockLinks = (st: SimState): VNode =>
  dynamic(() => [...st.disks.keys(), ...dmNames(st)], (name) => {
    const d = st.disks.get(name)
    if (d) return link(blockDir(d))
    const m = SimMultipathd.mapNamed(st, name)
    return m ? link(dmDir(m)) : undefined
  })

/** A directory of the SCSI hosts, each a link to `<host's directory>/<kind>/host<no>`. */
const hostLinks = (st: SimState, kind: "iscsi_host" | "scsi_host"): VNode =>
  dynamic(() => Array.from(st.hosts.keys(), (no) => `host${no}`), (name) => {
    const h = hostNamed(st, name)
    return h ? link(`${hostDir(h)}/${kind}/host${h.no}`) : undefined
  })

const classes = (st: SimState): VNode =>
  fixed({
    iscsi_session: dynamic(() => Array.from(st.sessions.keys(), (sid) => `session${sid}`), (name) => {
      const s = sessionNamed(st, name, "session")
      return s ? link(`${sessionDir(s)}/iscsi_session/session${s.sid}`) : undefined
    }),
    iscsi_connection: dynamic(() => Array.from(st.sessions.keys(), (sid) => `connection${sid}:0`), (name) => {
      const s = sessionNamed(st, name, "connection", ":0")
      return s ? link(`${connectionDir(s)}/iscsi_connection/connection${s.sid}:0`) : undefined
    }),
    iscsi_host: hostLinks(st, "iscsi_host"),
    scsi_host: hostLinks(st, "scsi_host"),
    scsi_device: dynamic(() => Array.from(st.scsi.keys()), (hctl) => {
      const d = st.scsi.get(hctl)
      return d ? link(`${deviceDir(d)}/scsi_device/${hctl}`) : undefined
    }),
    iscsi_iface: dynamic(
      () => Array.from(st.hosts.values(), (h) => kernelIfacesOfHost(h).map((k) => k.name)).flat(),
      (name) => {
        const m = /^ipv[46]-iface-(\d+)-\d+$/.exec(name)
        const h = m ? st.hosts.get(Number(m[1])) : undefined
        return h && kernelIfacesOfHost(h).some((k) => k.name === name) ? link(kernelIfaceDir(h, name)) : undefined
      }
    ),
    iscsi_transport: dynamic(
      () => Array.from(st.transports),
      (t) => (st.transports.has(t) ? link(`/sys/devices/virtual/iscsi_transport/${t}`) : undefined)
    ),
    block: blockLinks(st)
  })

/** A loaded transport's class device: its handle and capabilities (values standing for the kernel's). */
const transport = (st: SimState, t: string): VNode =>
  fixed({
    caps: text(driverOf(t).kernelIfaces ? "0x1b9" : "0x39"),
    handle: text(String(0xa0000000 + 0x1000 * Math.max(0, [...st.transports].indexOf(t)))),
    power,
    subsystem: link("/sys/class/iscsi_transport"),
    uevent
  })

const devices = (st: SimState): VNode =>
  fixed({
    platform: dynamic(
      () => Array.from(st.hosts.values()).filter((h) => !h.hba).map((h) => `host${h.no}`),
      (name) => {
        const h = hostNamed(st, name)
        return h && !h.hba ? host(h, st) : undefined
      }
    ),
    // the HBAs' bridges, each with its functions, each with its SCSI host while the driver is loaded
    "pci0000:00": dynamic(() => [...new Set(st.hbas.map((h) => h.bridge))].sort(), (bridge) => {
      const behind = st.hbas.filter((h) => h.bridge === bridge)
      if (behind.length === 0) return undefined
      return dynamic(() => behind.map((h) => h.pciAddress).sort(), (address) => {
        const h = behind.find((x) => x.pciAddress === address)?.host
        return behind.some((x) => x.pciAddress === address)
          ? (h ? fixed({ [`host${h.no}`]: () => host(h, st) }) : empty)
          : undefined
      })
    }),
    virtual: fixed({
      block: dynamic(() => dmNames(st), (name) => {
        const m = SimMultipathd.mapNamed(st, name)
        return m ? dm(m, st) : undefined
      }),
      iscsi_transport: dynamic(
        () => Array.from(st.transports),
        (t) => (st.transports.has(t) ? transport(st, t) : undefined)
      )
    })
  })

/** /sys of `st`'s host. */
export const sys = (st: SimState): VNode =>
  fixed({ block: () => blockLinks(st), class: () => classes(st), devices: () => devices(st) })
