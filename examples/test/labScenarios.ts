/**
 * One table of host scenarios run by brick's core programs on two hosts: the
 * real lab guest (`scenarios.lab.test.ts`: NodeHost, LIO target, iscsid,
 * multipathd, udev) and the simulator (`labScenarios.test.ts`: SimHost with the
 * `lab` latency profile). Each scenario runs the same steps through a
 * `LabDriver` and returns a plain outcome (kind of device, paths, sessions,
 * ifaces, what is left behind); both tests assert it equals `expect`, so the
 * sim and the kernel are held to the same observable behaviour.
 *
 * Every scenario also checks the WHOLE host (sessions, node records, ifaces,
 * SCSI devices, by-path links, dm maps) before and after: `left` lists what
 * differs once it is over (`+` appeared, `-` vanished).
 */
import { connectVolume, disconnectVolume, extendVolume, getConnectorProperties } from "@brick/core"
import type { IscsiServices } from "@brick/core"
import { Effect, Exit } from "effect"
import * as assert from "node:assert/strict"

/** The services brick's programs need. */
export type Services = IscsiServices

/** A target to create for a scenario (lab: `lab-target create`; sim: `addTarget`). */
export interface TargetSpec {
  readonly iqn: string
  readonly portals: ReadonlyArray<string>
  readonly luns: ReadonlyArray<{ readonly lun: number; readonly sizeBytes: number }>
  readonly chap?: { readonly username: string; readonly password: string }
  readonly mutual?: { readonly username: string; readonly password: string }
  readonly discoveryChap?: { readonly username: string; readonly password: string }
}

/** The whole host, as sorted text lines per kind. */
export interface HostPicture {
  /** `iqn portal iface` */
  readonly sessions: ReadonlyArray<string>
  /** `iqn portal` */
  readonly nodes: ReadonlyArray<string>
  /** sendtargets discovery records, `address,port` */
  readonly discoveryRecords: ReadonlyArray<string>
  /** custom iface names (not `default`/`iser`) */
  readonly ifaces: ReadonlyArray<string>
  /** `sdX wwid` */
  readonly scsiDevices: ReadonlyArray<string>
  /** by-path link names of iSCSI devices */
  readonly byPath: ReadonlyArray<string>
  /** `name: path path ...` */
  readonly maps: ReadonlyArray<string>
}

/** What a scenario needs from a host. */
export interface LabDriver {
  readonly name: "lab" | "sim"
  /** The initiator IQN the host is configured with. */
  readonly initiatorName: string
  /** A fresh target; returns each LUN's kernel wwid (`naa.6001405…`). */
  readonly createTarget: (spec: TargetSpec) => Promise<ReadonlyMap<number, string>>
  readonly deleteTarget: (spec: TargetSpec) => Promise<void>
  readonly resizeLun: (iqn: string, lun: number, sizeBytes: number) => Promise<void>
  /** The whole host once udev and multipathd have settled (links and maps follow devices asynchronously). */
  readonly picture: () => Promise<HostPicture>
  /** Runs a program on the host's services. */
  readonly run: <A, E>(effect: Effect.Effect<A, E, Services>) => Promise<Exit.Exit<A, E>>
  /** Reads the first 4 KiB of a device; resolves to the number of bytes read. */
  readonly readBlock: (device: string) => Promise<number>
  /** A unique suffix for IQNs (lab: random; sim: fixed). */
  readonly unique: string
  /** A network interface's hardware address (`/sys/class/net/NAME/address`). */
  readonly hwaddress: (netdev: string) => string
}

export const portals = ["10.99.0.1:3260", "10.99.0.2:3260", "10.99.0.3:3260", "10.99.0.4:3260"] as const
const MiB = 1024 * 1024

const iqnOf = (d: LabDriver, name: string) => `iqn.2003-01.org.brick:scn-${name}-${d.unique}`

/** Cinder's connection data for `lun` of `t` over its portals (multipath form when several). */
const infoOf = (t: TargetSpec, lun: number, extra: Record<string, unknown> = {}) => ({
  target_portal: t.portals[0],
  target_iqn: t.iqn,
  target_lun: lun,
  ...(t.portals.length > 1
    ? { target_portals: t.portals, target_iqns: t.portals.map(() => t.iqn), target_luns: t.portals.map(() => lun) }
    : {}),
  volume_id: `vol-${lun}`,
  ...extra
})

const chapInfo = (t: TargetSpec, password = t.chap?.password) => ({
  auth_method: "CHAP",
  auth_username: t.chap?.username,
  auth_password: password,
  ...(t.mutual ? { auth_username_in: t.mutual.username, auth_password_in: t.mutual.password } : {})
})

/** `outcome` with `netdev`'s hardware address written `<netdev>` (it differs between hosts and boots). */
const withNetdevNames = <A>(d: LabDriver, outcome: A, ...netdevs: ReadonlyArray<string>): A =>
  JSON.parse(netdevs.reduce((text, n) => text.split(d.hwaddress(n)).join(`<${n}>`), JSON.stringify(outcome))) as A

/** Lines of `b` not in `a` (`+`) and of `a` not in `b` (`-`), over every kind. */
export const diff = (a: HostPicture, b: HostPicture): ReadonlyArray<string> => {
  const out: Array<string> = []
  for (const k of Object.keys(a) as Array<keyof HostPicture>) {
    const before = new Set(a[k])
    const after = new Set(b[k])
    for (const x of b[k]) if (!before.has(x)) out.push(`+${k} ${x}`)
    for (const x of a[k]) if (!after.has(x)) out.push(`-${k} ${x}`)
  }
  return out
}

const value = <A, E>(exit: Exit.Exit<A, E>, what: string): A => {
  if (Exit.isFailure(exit)) throw new Error(`${what} failed: ${String(exit.cause)}`)
  return exit.value
}

/** `Tag/ReasonTag[/path kinds]` of a failed program. */
const errorOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "succeeded"
  const e = Exit.findErrorOption(exit)
  if (e._tag === "None") return `defect: ${String(exit.cause)}`
  const err = e.value as { _tag?: string; reason?: { _tag?: string; paths?: ReadonlyArray<{ _tag: string }> } }
  const kinds = [...new Set((err.reason?.paths ?? []).map((p) => p._tag))].sort()
  return [err._tag, err.reason?._tag, ...(kinds.length > 0 ? [kinds.join(",")] : [])].join("/")
}

/** The detail of an IfaceUnusable failure (why the host cannot use the iface). */
const unusableDetail = <A, E>(exit: Exit.Exit<A, E>): string | undefined => {
  const e = Exit.findErrorOption(exit)
  if (e._tag === "None") return undefined
  const reason = (e.value as { reason?: { _tag?: string; detail?: string } }).reason
  return reason?._tag === "IfaceUnusable" ? reason.detail : undefined
}

interface Device {
  readonly path: string
  readonly scsi_wwn: string
  readonly multipath_id?: string
  readonly iface?: string
}

/** How an attached volume looks on the host. */
const attachedView = (pic: HostPicture, t: TargetSpec, dev: Device, wwid: string | undefined) => {
  const mine = pic.sessions.filter((s) => s.startsWith(`${t.iqn} `))
  const map = pic.maps.find((m) => m.startsWith(`${dev.scsi_wwn}:`))
  return {
    device: /^\/dev\/dm-\d+$/.test(dev.path) ? "dm" : /^\/dev\/sd[a-z]+$/.test(dev.path) ? "sd" : dev.path,
    wwnIsTargets: wwid !== undefined && dev.scsi_wwn === `3${wwid.slice("naa.".length)}`,
    sessions: mine.length,
    sessionIfaces: [...new Set(mine.map((s) => s.split(" ")[2]!))].sort(),
    resultIface: dev.iface ?? null,
    /** The `pci-…` prefixes of the volume's by-path links (offload HBAs' PCI functions). */
    pci: [
      ...new Set(
        pic.byPath.filter((l) => l.includes(`-iscsi-${t.iqn}-lun-`)).flatMap((l) =>
          /^(pci-[^-]+)-ip-/.exec(l)?.[1] ?? []
        )
      )
    ],
    mapPaths: map === undefined ? null : map.split(":")[1]!.trim().split(" ").filter((x) => x !== "").length,
    byPathLinks: pic.byPath.filter((l) => l.includes(`-iscsi-${t.iqn}-lun-`)).length
  }
}

/** connect → look → disconnect → look, with the whole host checked before and after. */
const attachDetach = async (
  d: LabDriver,
  t: TargetSpec,
  info: Record<string, unknown>,
  options: Record<string, unknown>
) => {
  const wwids = await d.createTarget(t)
  try {
    const before = await d.picture()
    const dev = value(await d.run(connectVolume(info, options)), "connect") as Device
    const during = await d.picture()
    const view = attachedView(during, t, dev, wwids.get(info["target_lun"] as number))
    const read = await d.readBlock(dev.path)
    value(await d.run(disconnectVolume(info, dev, {}, options)), "disconnect")
    const left = diff(before, await d.picture())
    return { ...view, read, left }
  } finally {
    await d.deleteTarget(t)
  }
}

/** A connect that must fail: its error and what differs on the host afterwards. */
const failingConnect = async (
  d: LabDriver,
  t: TargetSpec,
  info: Record<string, unknown>,
  options: Record<string, unknown>
) => {
  await d.createTarget(t)
  try {
    const before = await d.picture()
    const exit = await d.run(connectVolume(info, options))
    const left = diff(before, await d.picture())
    if (Exit.isSuccess(exit)) value(await d.run(disconnectVolume(info, exit.value, {}, options)), "disconnect")
    const detail = unusableDetail(exit)
    return { error: errorOf(exit), ...(detail === undefined ? {} : { detail }), left }
  } finally {
    await d.deleteTarget(t)
  }
}

const target = (d: LabDriver, name: string, nPortals: number, extra: Partial<TargetSpec> = {}): TargetSpec => ({
  iqn: iqnOf(d, name),
  portals: portals.slice(0, nPortals),
  luns: [{ lun: 0, sizeBytes: 32 * MiB }],
  ...extra
})

/** What a connect that worked looks like, by default. */
const attached = (device: "dm" | "sd", paths: number, over: Record<string, unknown> = {}) => ({
  device,
  wwnIsTargets: true,
  sessions: paths,
  sessionIfaces: ["default"],
  resultIface: "default",
  pci: [] as ReadonlyArray<string>,
  mapPaths: paths,
  byPathLinks: paths,
  read: 4096,
  left: [] as ReadonlyArray<string>,
  ...over
})

/**
 * Offload HBAs the simulated host has for the scenarios that need them (the
 * lab guest has none): a qla4xxx port (driver loaded, IP 10.99.0.50, behind
 * bridge 0000:00:03.0) and a cxgb4i port whose driver is not loaded.
 */
export const offloadHbas = {
  transports: ["tcp", "iser", "qla4xxx"],
  hbas: [
    {
      transport: "qla4xxx",
      hwaddress: "00:0e:1e:04:8b:2e",
      pciAddress: "0000:05:00.1",
      bridge: "0000:00:03.0",
      ipaddress: "10.99.0.50"
    },
    { transport: "cxgb4i", hwaddress: "00:07:43:11:22:33", pciAddress: "0000:06:00.4", netdev: "eth4" }
  ]
} as const
const qlaRecord = "qla4xxx.00:0e:1e:04:8b:2e.ipv4.0"

/** One scenario: its steps and the outcome both hosts must show. */
export interface Scenario {
  /** Hardware the scenario needs that only the simulator has (`offloadHbas`); the lab runs the others. */
  readonly needs?: "offload-hbas"
  readonly name: string
  readonly run: (d: LabDriver) => Promise<unknown>
  readonly expect: unknown
}

export const scenarios: ReadonlyArray<Scenario> = [
  {
    name: "single path, no multipath: /dev/sdX of the LUN (multipathd, find_multipaths no, still maps it)",
    run: (d) => {
      const t = target(d, "single", 1)
      return attachDetach(d, t, infoOf(t, 0), {})
    },
    expect: attached("sd", 1)
  },
  {
    name: "2-path multipath: the dm device over both paths",
    run: (d) => {
      const t = target(d, "mp2", 2)
      return attachDetach(d, t, infoOf(t, 0), { useMultipath: true })
    },
    expect: attached("dm", 2)
  },
  {
    name: "4-path multipath: the dm device over all 4 paths",
    run: (d) => {
      const t = target(d, "mp4", 4)
      return attachDetach(d, t, infoOf(t, 0), { useMultipath: true })
    },
    expect: attached("dm", 4)
  },
  {
    name: "sendtargets discovery from one portal: every portal of the target (not another target's) logged in",
    run: async (d) => {
      const t = target(d, "disc", 3)
      const other = target(d, "disc-other", 4, { portals: [portals[3]] })
      await d.createTarget(other)
      try {
        return await attachDetach(d, t, {
          target_portal: t.portals[0],
          target_iqn: t.iqn,
          target_lun: 0,
          volume_id: "disc"
        }, { useMultipath: true })
      } finally {
        await d.deleteTarget(other)
      }
    },
    expect: attached("dm", 3)
  },
  {
    name: "CHAP, right secret",
    run: (d) => {
      const t = target(d, "chap", 2, { chap: { username: "brickuser", password: "Right-Secret-123" } })
      return attachDetach(d, t, infoOf(t, 0, chapInfo(t)), { useMultipath: true })
    },
    expect: attached("dm", 2)
  },
  {
    name: "CHAP, wrong secret: AuthenticationFailed, host unchanged",
    run: (d) => {
      const t = target(d, "chapbad", 2, { chap: { username: "brickuser", password: "Right-Secret-123" } })
      return failingConnect(d, t, infoOf(t, 0, chapInfo(t, "Wrong-Secret-456")), { useMultipath: true })
    },
    expect: { error: "ConnectError/LoginFailed/AuthenticationFailed", left: [] }
  },
  {
    name: "mutual CHAP",
    run: (d) => {
      const t = target(d, "mutual", 2, {
        chap: { username: "brickuser", password: "Right-Secret-123" },
        mutual: { username: "targetuser", password: "Target-Secret-789" }
      })
      return attachDetach(d, t, infoOf(t, 0, chapInfo(t)), { useMultipath: true })
    },
    expect: attached("dm", 2)
  },
  {
    name: "mutual CHAP, the target proves a wrong secret: AuthenticationFailed, host unchanged",
    run: (d) => {
      const t = target(d, "mutualbad", 2, {
        chap: { username: "brickuser", password: "Right-Secret-123" },
        mutual: { username: "targetuser", password: "Target-Secret-789" }
      })
      return failingConnect(d, t, infoOf(t, 0, { ...chapInfo(t), auth_password_in: "Other-Secret-000" }), {
        useMultipath: true
      })
    },
    expect: { error: "ConnectError/LoginFailed/AuthenticationFailed", left: [] }
  },
  {
    name: "custom tcp iface bound to dummy0: sessions use it; the record brick made (tcp.<its MAC>) goes at disconnect",
    run: async (d) => {
      const t = target(d, "iface", 2)
      const outcome = await attachDetach(d, t, infoOf(t, 0), {
        useMultipath: true,
        iface: { transport: "tcp", netIfacename: "dummy0" }
      })
      return withNetdevNames(d, outcome, "dummy0")
    },
    expect: attached("dm", 2, { sessionIfaces: ["tcp.<dummy0>"], resultIface: "tcp.<dummy0>" })
  },
  {
    name: "iface from an IP address (10.99.1.1 on dummy1): tcp bound to dummy1, portal 10.99.1.2",
    run: async (d) => {
      const t = target(d, "fromip", 1, { portals: ["10.99.1.2:3260"] })
      const outcome = await attachDetach(d, t, infoOf(t, 0), { iface: { ipaddress: "10.99.1.1" } })
      return withNetdevNames(d, outcome, "dummy1")
    },
    expect: attached("sd", 1, { sessionIfaces: ["tcp.<dummy1>"], resultIface: "tcp.<dummy1>" })
  },
  {
    name: "offload iface (bnx2i: module not loaded, no such port): falls back to default",
    run: (d) => {
      const t = target(d, "offload", 2)
      return attachDetach(d, t, infoOf(t, 0), {
        useMultipath: true,
        iface: { transport: "bnx2i", hwaddress: "00:0e:1e:aa:bb:cc" }
      })
    },
    expect: attached("dm", 2)
  },
  {
    needs: "offload-hbas",
    name:
      "offload HBA present (qla4xxx by hwaddress): sessions through its record, by-path links pci-<its function>-ip-…",
    run: (d) => {
      const t = target(d, "hba", 2)
      return attachDetach(d, t, infoOf(t, 0), {
        useMultipath: true,
        iface: { transport: "qla4xxx", hwaddress: "00:0E:1E:04:8B:2E" }
      })
    },
    expect: attached("dm", 2, { sessionIfaces: [qlaRecord], resultIface: qlaRecord, pci: ["pci-0000:05:00.1"] })
  },
  {
    needs: "offload-hbas",
    name: "iface from the IP an offload port holds (10.99.0.50 on the qla4xxx): its record, pci by-path link",
    run: (d) => {
      const t = target(d, "hbaip", 1)
      return attachDetach(d, t, infoOf(t, 0), { iface: { ipaddress: "10.99.0.50" } })
    },
    expect: attached("sd", 1, { sessionIfaces: [qlaRecord], resultIface: qlaRecord, pci: ["pci-0000:05:00.1"] })
  },
  {
    needs: "offload-hbas",
    name: "offload HBA absent (qla4xxx loaded, no port with that hwaddress), ifaceFallback false: IfaceUnusable",
    run: (d) => {
      const t = target(d, "hbaabsent", 2)
      return failingConnect(d, t, infoOf(t, 0), {
        useMultipath: true,
        ifaceFallback: false,
        iface: { transport: "qla4xxx", hwaddress: "00:0e:1e:ff:ff:ff" }
      })
    },
    expect: {
      error: "ConnectError/IfaceUnusable",
      detail: "no qla4xxx iSCSI host with hardware address 00:0e:1e:ff:ff:ff on this host",
      left: []
    }
  },
  {
    needs: "offload-hbas",
    name: "offload transport not loaded (cxgb4i port present, module not loaded), ifaceFallback false: IfaceUnusable",
    run: (d) => {
      const t = target(d, "hbaunloaded", 1)
      return failingConnect(d, t, infoOf(t, 0), {
        ifaceFallback: false,
        iface: { transport: "cxgb4i", hwaddress: "00:07:43:11:22:33" }
      })
    },
    expect: {
      error: "ConnectError/IfaceUnusable",
      detail: "transport cxgb4i is not loaded (no /sys/class/iscsi_transport/cxgb4i)",
      left: []
    }
  },
  {
    name: "a named iface that does not exist: falls back to default",
    run: (d) => {
      const t = target(d, "noiface", 2)
      return attachDetach(d, t, infoOf(t, 0), { useMultipath: true, iface: "brick-no-such-iface" })
    },
    expect: attached("dm", 2)
  },
  {
    name: "two LUNs of one target: detaching one leaves the other attached and readable",
    run: async (d) => {
      const t = target(d, "twoluns", 2, { luns: [{ lun: 0, sizeBytes: 32 * MiB }, { lun: 1, sizeBytes: 16 * MiB }] })
      const options = { useMultipath: true }
      await d.createTarget(t)
      try {
        const before = await d.picture()
        const dev0 = value(await d.run(connectVolume(infoOf(t, 0), options)), "connect lun 0") as Device
        const dev1 = value(await d.run(connectVolume(infoOf(t, 1), options)), "connect lun 1") as Device
        const both = await d.picture()
        value(await d.run(disconnectVolume(infoOf(t, 0), dev0, {}, options)), "disconnect lun 0")
        const one = await d.picture()
        const read = await d.readBlock(dev1.path)
        value(await d.run(disconnectVolume(infoOf(t, 1), dev1, {}, options)), "disconnect lun 1")
        const sessions = (p: HostPicture) => p.sessions.filter((s) => s.startsWith(`${t.iqn} `)).length
        return {
          devices: [dev0.path, dev1.path].map((p) => p.replace(/\d+$/, "N")),
          mapsWithBoth: both.maps.filter((m) => m.startsWith(dev0.scsi_wwn) || m.startsWith(dev1.scsi_wwn)).length,
          sessionsWithBoth: sessions(both),
          afterFirstDetach: {
            sessions: sessions(one),
            lun0Map: one.maps.some((m) => m.startsWith(`${dev0.scsi_wwn}:`)),
            lun1Map: one.maps.some((m) => m.startsWith(`${dev1.scsi_wwn}:`)),
            byPathLinks: one.byPath.filter((l) => l.includes(`-iscsi-${t.iqn}-lun-`)).map((l) =>
              l.replace(/^.*-lun-/, "lun-")
            ).sort(),
            read
          },
          left: diff(before, await d.picture())
        }
      } finally {
        await d.deleteTarget(t)
      }
    },
    expect: {
      devices: ["/dev/dm-N", "/dev/dm-N"],
      mapsWithBoth: 2,
      sessionsWithBoth: 2,
      afterFirstDetach: { sessions: 2, lun0Map: false, lun1Map: true, byPathLinks: ["lun-1", "lun-1"], read: 4096 },
      left: []
    }
  },
  {
    name: "extend: the target grows the LUN, extendVolume returns the new size",
    run: async (d) => {
      const t = target(d, "extend", 2)
      const info = infoOf(t, 0)
      const options = { useMultipath: true }
      await d.createTarget(t)
      try {
        const before = await d.picture()
        const dev = value(await d.run(connectVolume(info, options)), "connect") as Device
        await d.resizeLun(t.iqn, 0, 64 * MiB)
        const size = value(await d.run(extendVolume(info)), "extend")
        value(await d.run(disconnectVolume(info, dev, {}, options)), "disconnect")
        return { size, left: diff(before, await d.picture()) }
      } finally {
        await d.deleteTarget(t)
      }
    },
    expect: { size: 64 * MiB, left: [] }
  },
  {
    name: "connector properties: the host's initiator IQN and multipath support",
    run: async (d) => {
      const props = value(await d.run(getConnectorProperties({ useMultipath: true })), "properties")
      return {
        initiatorIsHosts: props.initiator === d.initiatorName,
        multipath: props.multipath,
        multipathd_running: props.multipathd_running
      }
    },
    expect: { initiatorIsHosts: true, multipath: true, multipathd_running: true }
  },
  {
    // last: LIO's discovery CHAP is global to the fabric (deleteTarget clears it)
    name: "discovery CHAP: sendtargets with credentials, then every portal logged in",
    run: (d) => {
      const t = target(d, "discchap", 2, { discoveryChap: { username: "discuser", password: "Disc-Secret-321" } })
      return attachDetach(d, t, {
        target_portal: t.portals[0],
        target_iqn: t.iqn,
        target_lun: 0,
        discovery_auth_method: "CHAP",
        discovery_auth_username: "discuser",
        discovery_auth_password: "Disc-Secret-321",
        volume_id: "discchap"
      }, { useMultipath: true })
    },
    expect: attached("dm", 2)
  }
]

/** Runs one scenario and asserts its outcome. */
export const check = async (d: LabDriver, s: Scenario): Promise<void> => {
  const outcome = await s.run(d)
  assert.deepEqual(outcome, s.expect, `${d.name}: ${s.name}`)
}

/** Convenience for drivers: an Effect-free promise of `effect`'s exit. */
export const runExit = <A, E>(effect: Effect.Effect<A, E>): Promise<Exit.Exit<A, E>> => Effect.runPromiseExit(effect)
