/**
 * The /sys and /dev trees of a simulated host, derived on demand from its
 * state with the real kernel's layout for iSCSI (software hosts under
 * /sys/devices/platform, offload HBAs under their PCI device), and udev's
 * and device-mapper's /dev links.
 */
import type { SimMap, SimScsiDevice, SimScsiHost, SimSession } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import * as SimRandom from "./SimRandom.ts"
import type { SimState } from "./SimState.ts"
import { type VNode, dynamic, empty, file, fixed, link, readWrite, single, writeOnly } from "./SimTree.ts"

/** Caches a node per model object (a session's, a disk's… names never change). */
const memo = <K extends object>(f: (k: K) => VNode): (k: K) => VNode => {
  const cache = new WeakMap<K, VNode>()
  return (k) => {
    let v = cache.get(k)
    if (v === undefined) cache.set(k, (v = f(k)))
    return v
  }
}

/** Canonical sysfs directory of a SCSI host. */
export const hostDir = (h: SimScsiHost): string =>
  h.hba ? `/sys/devices/pci0000:00/${h.hba.pciAddress}/host${h.no}` : `/sys/devices/platform/host${h.no}`
/** Canonical sysfs directory of a session's device. */
export const sessionDir = (s: SimSession): string => `${hostDir(s.host)}/session${s.sid}`
/** Canonical sysfs directory of a session's SCSI target. */
export const targetDir = (s: SimSession): string => `${sessionDir(s)}/target${s.host.no}:0:${s.targetId}`
/** Canonical sysfs directory of a SCSI device. */
export const deviceDir = (d: SimScsiDevice): string => `${targetDir(d.session)}/${d.hctl}`
/** Canonical sysfs directory of a disk's block device. */
export const blockDir = (d: SimScsiDevice): string => `${deviceDir(d)}/block/${d.name}`
/** Canonical sysfs directory of a dm device. */
export const dmDir = (m: SimMap): string => `/sys/devices/virtual/block/dm-${m.minor}`

const sectors = (bytes: number): string => String(Math.floor(bytes / 512))
const pad = (s: string, n: number): string => s.slice(0, n).padEnd(n, " ")
const procName = (transport: string): string => (transport === "tcp" ? "iscsi_tcp" : transport)
const uevent = file(() => "")
/** A device's runtime-PM directory (entries as the lab kernel lists them). */
const power = fixed({
  async: file(() => "disabled"),
  autosuspend_delay_ms: file(() => ""),
  control: file(() => "auto"),
  runtime_active_kids: file(() => "0"),
  runtime_active_time: file(() => "0"),
  runtime_enabled: file(() => "disabled"),
  runtime_status: file(() => "unsupported"),
  runtime_suspended_time: file(() => "0"),
  runtime_usage: file(() => "0")
})

/** Builds the root of a host's /sys + /dev tree. */
export const make = (st: SimState): VNode => {
  const sessionOf = (name: string, prefix: string, suffix = ""): SimSession | undefined => {
    if (!name.endsWith(suffix)) return undefined
    const sid = SimNames.numbered(name.slice(0, name.length - suffix.length), prefix)
    return sid === undefined ? undefined : st.sessions.get(sid)
  }
  const hostOf = (name: string): SimScsiHost | undefined => {
    const no = SimNames.numbered(name, "host")
    return no === undefined ? undefined : st.hosts.get(no)
  }
  const mapOf = (name: string): SimMap | undefined => {
    const minor = SimNames.numbered(name, "dm-")
    return minor === undefined ? undefined : st.mapsByMinor.get(minor)
  }
  const sessionNames = () => st.sessionNames.names
  const hostNames = () => Array.from(st.hosts.keys(), (no) => `host${no}`)
  const blockNames = () => [...st.disks.keys(), ...Array.from(st.mapsByMinor.keys(), (m) => `dm-${m}`)]
  const diskLink = memo((d: SimScsiDevice) => link(blockDir(d)))
  const dmLink = memo((m: SimMap) => link(dmDir(m)))
  const blockLink = (name: string): VNode | undefined => {
    const d = st.disks.get(name)
    if (d) return diskLink(d)
    const m = mapOf(name)
    return m ? dmLink(m) : undefined
  }

  // ---------------------------------------------------------------- device tree
  /** iscsi_host attributes: iscsid leaves netdev/hwaddress/initiatorname unset ("(null)") unless the iface binds them. */
  const iscsiHost = memo((h: SimScsiHost): VNode =>
    fixed({
      device: link(hostDir(h)),
      hwaddress: file(() => h.hwaddress),
      initiatorname: file(() => h.initiatorName),
      ipaddress: file(() => h.ipaddress),
      netdev: file(() => h.netdev),
      power: power,
      subsystem: link("/sys/class/iscsi_host"),
      uevent: file(() => "")
    }))

  /** scsi_host attributes as the lab's iscsi_tcp host shows them; `scan` and `host_reset` are write-only. */
  const scsiHost = memo((h: SimScsiHost): VNode =>
    fixed({
      active_mode: file(() => "Initiator"),
      can_queue: file(() => "113"),
      cmd_per_lun: file(() => "32"),
      device: link(hostDir(h)),
      eh_deadline: file(() => "off"),
      host_busy: file(() => "0"),
      host_reset: writeOnly(() => undefined),
      nr_hw_queues: file(() => "1"),
      power: power,
      proc_name: file(() => procName(h.transport)),
      prot_capabilities: file(() => "0"),
      prot_guard_type: file(() => "0"),
      scan: writeOnly((value) => {
        const parts = value.trim().split(/\s+/)
        if (parts.length !== 3) return { errno: "EINVAL" }
        const nums = parts.map((p) => (p === "-" ? undefined : /^\d{1,10}$/.test(p) ? Number(p) : Number.NaN))
        if (nums.some((n) => n !== undefined && Number.isNaN(n))) return { errno: "EINVAL" }
        st.scanHost(h, nums[0], nums[1], nums[2])
        return undefined
      }),
      sg_prot_tablesize: file(() => "0"),
      sg_tablesize: file(() => "4096"),
      state: file(() => "running"),
      subsystem: link("/sys/class/scsi_host"),
      supported_mode: file(() => "Initiator"),
      uevent: file(() => ""),
      unique_id: file(() => "0"),
      use_blk_mq: file(() => "1")
    }))

  /** Every attribute the lab's kernel (6.1) shows in an iscsi_session, with its values there. */
  const iscsiSession = memo((s: SimSession): VNode => {
    const nullable = (v: string | undefined) => file(() => v ?? "(null)")
    return fixed({
      abort_tmo: file(() => "15"),
      creator: file(() => String(st.iscsidPid)),
      data_pdu_in_order: file(() => "0"),
      data_seq_in_order: file(() => "0"),
      device: link(sessionDir(s)),
      erl: file(() => "0"),
      fast_abort: file(() => "1"),
      first_burst_len: file(() => "65536"),
      ifacename: file(() => s.iface),
      immediate_data: file(() => "1"),
      initial_r2t: file(() => "1"),
      initiatorname: file(() => s.initiatorName),
      lu_reset_tmo: file(() => "30"),
      max_burst_len: file(() => "262144"),
      max_outstanding_r2t: file(() => "1"),
      password: nullable(s.password),
      password_in: nullable(s.passwordIn),
      power: power,
      recovery_tmo: readWrite(() => String(s.recoveryTmo), (v) => {
        if (!/^\d+$/.test(v.trim())) return { errno: "EINVAL" }
        s.recoveryTmo = Number(v.trim())
        return undefined
      }),
      state: file(() => s.state),
      subsystem: link("/sys/class/iscsi_session"),
      target_id: file(() => String(s.targetId)),
      target_state: file(() => (s.scanned ? "SCANNED" : "ALLOCATED")),
      targetname: file(() => s.iqn),
      tgt_reset_tmo: file(() => "30"),
      tpgt: file(() => String(s.tpgt)),
      uevent: file(() => ""),
      username: nullable(s.username),
      username_in: nullable(s.usernameIn)
    })
  })

  /** iscsi_connection attributes as the lab kernel shows them (exp_statsn and local_port drawn per session from the seed). */
  const iscsiConnection = memo((s: SimSession): VNode => {
    const a = SimNames.portalAddress(s.portal)
    const r = SimRandom.make(SimRandom.hash("connection", st.seed, s.sid))
    const expStatsn = String(r.int(4294967296))
    const localPort = String(32768 + r.int(28232))
    return fixed({
      address: file(() => a.address),
      data_digest: file(() => "0"),
      device: link(`${sessionDir(s)}/connection${s.sid}:0`),
      exp_statsn: file(() => expStatsn),
      header_digest: file(() => "0"),
      local_port: file(() => localPort),
      max_recv_dlength: file(() => "262144"),
      max_xmit_dlength: file(() => "262144"),
      persistent_address: file(() => a.address),
      persistent_port: file(() => String(a.port)),
      ping_tmo: file(() => "5"),
      port: file(() => String(a.port)),
      power: power,
      recv_tmo: file(() => "5"),
      state: file(() => (s.state === "LOGGED_IN" ? "up" : "failed")),
      subsystem: link("/sys/class/iscsi_connection"),
      uevent: file(() => "")
    })
  })

  /** Attributes every block device shows (lab kernel 6.1); `dev` numbers follow sd's and dm's majors. */
  const blockCommon = (size: () => number, dev: string, bdi: string): Record<string, VNode> => ({
    alignment_offset: file(() => "0"),
    bdi: link(`/sys/devices/virtual/bdi/${bdi}`),
    capability: file(() => "0"),
    dev: file(() => dev),
    discard_alignment: file(() => "0"),
    diskseq: file(() => "0"),
    events: file(() => ""),
    events_async: file(() => ""),
    events_poll_msecs: file(() => "-1"),
    ext_range: file(() => "256"),
    hidden: file(() => "0"),
    inflight: file(() => "       0        0"),
    integrity: empty,
    mq: empty,
    power,
    queue: fixed({ logical_block_size: file(() => "512"), physical_block_size: file(() => "512") }),
    range: file(() => "0"),
    removable: file(() => "0"),
    ro: file(() => "0"),
    size: file(() => sectors(size())),
    stat: file(() => "       0        0        0        0"),
    subsystem: link("/sys/class/block"),
    trace: empty,
    uevent: file(() => `MAJOR=${dev.split(":")[0]}\nMINOR=${dev.split(":")[1]}\nDEVTYPE=disk`)
  })
  const sdDev = (index: number): string => {
    const majors = [8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135]
    return index < 256 ? `${majors[index >> 4]}:${(index & 15) * 16}` : `259:${index}`
  }

  const block = memo((d: SimScsiDevice): VNode =>
    fixed({
      ...blockCommon(() => d.sizeBytes, sdDev(d.diskIndex), sdDev(d.diskIndex)),
      device: link(deviceDir(d)),
      holders: dynamic(
        () => (d.map ? [`dm-${d.map.minor}`] : []),
        (n) => (d.map && n === `dm-${d.map.minor}` ? dmLink(d.map) : undefined)
      ),
      slaves: empty
    }))

  /** A SCSI disk's attributes as the lab's LIO disks show them; binary pages are approximations of the right length. */
  const scsiDevice = memo((d: SimScsiDevice): VNode => {
    const zero = (n: number) => file(() => "\0".repeat(n))
    return fixed({
      access_state: file(() => "active/optimized"),
      blacklist: file(() => ""),
      block: single(d.name, () => block(d)),
      bsg: single(d.hctl, () => empty),
      driver: link("/sys/bus/scsi/drivers/sd"),
      generic: link(`${deviceDir(d)}/scsi_generic/sg${d.diskIndex}`),
      delete: writeOnly(() => {
        st.removeDevice(d)
        return undefined
      }),
      device_blocked: file(() => "0"),
      device_busy: file(() => "0"),
      dh_state: file(() => "alua"),
      eh_timeout: file(() => "10"),
      evt_capacity_change_reported: file(() => "0"),
      evt_inquiry_change_reported: file(() => "0"),
      evt_lun_change_reported: file(() => "0"),
      evt_media_change: file(() => "0"),
      evt_mode_parameter_change_reported: file(() => "0"),
      evt_soft_threshold_reached: file(() => "0"),
      inquiry: file(() => ("\0".repeat(8) + pad("LIO-ORG", 8) + pad(d.model, 16) + pad("4.0", 4)).padEnd(96, "\0")),
      iocounterbits: file(() => "32"),
      iodone_cnt: file(() => "0x0"),
      ioerr_cnt: file(() => "0x0"),
      iorequest_cnt: file(() => "0x0"),
      iotmo_cnt: file(() => "0x0"),
      modalias: file(() => "scsi:t-0x00"),
      model: file(() => pad(d.model, 16)),
      power: power,
      preferred_path: file(() => "0"),
      queue_depth: file(() => "32"),
      queue_ramp_up_period: file(() => "120000"),
      queue_type: file(() => "simple"),
      rescan: writeOnly(() => {
        st.rescanDevice(d)
        return undefined
      }),
      rev: file(() => pad("4.0", 4)),
      scsi_device: single(d.hctl, () => single("device", () => link(deviceDir(d)))),
      scsi_disk: single(d.hctl, () => single("device", () => link(deviceDir(d)))),
      scsi_generic: single(`sg${d.diskIndex}`, () => single("device", () => link(deviceDir(d)))),
      scsi_level: file(() => "7"),
      state: file(() => st.deviceState(d)),
      subsystem: link("/sys/bus/scsi"),
      timeout: file(() => "30"),
      type: file(() => "0"),
      uevent: file(() => "DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00"),
      vendor: file(() => pad("LIO-ORG", 8)),
      vpd_pg0: zero(12),
      vpd_pg80: file(() => `\0\x80\0${String.fromCharCode(d.serial.length + 1)}${d.serial}\0`),
      vpd_pg83: zero(184),
      vpd_pgb0: zero(20),
      vpd_pgb1: zero(64),
      vpd_pgb2: zero(8),
      wwid: file(() => d.wwid)
    })
  })

  const session = memo((s: SimSession): VNode => {
    const conn = `connection${s.sid}:0`
    const target = `target${s.host.no}:0:${s.targetId}`
    const connDir = fixed({ iscsi_connection: single(conn, () => iscsiConnection(s)), power: power, uevent: uevent })
    const sessDir = single(`session${s.sid}`, () => iscsiSession(s))
    const targetExtras: Record<string, VNode> = { power: power, subsystem: link("/sys/bus/scsi"), uevent }
    const targetNode = dynamic(
      () => [...Array.from(s.devices.values(), (d) => d.hctl), ...Object.keys(targetExtras)],
      (name) => {
        const d = st.scsi.get(name)
        return d && d.session === s ? scsiDevice(d) : targetExtras[name]
      }
    )
    return dynamic(
      () => [conn, "iscsi_session", "power", "uevent", ...(s.devices.size > 0 ? [target] : [])],
      (name) => {
        if (name === conn) return connDir
        if (name === "iscsi_session") return sessDir
        if (name === "power") return power
        if (name === "uevent") return uevent
        if (name === target && s.devices.size > 0) return targetNode
        return undefined
      }
    )
  })

  const hostSubsystem = link("/sys/bus/scsi")
  const host = memo((h: SimScsiHost): VNode => {
    const iscsiHostDir = single(`host${h.no}`, () => iscsiHost(h))
    const scsiHostDir = single(`host${h.no}`, () => scsiHost(h))
    return dynamic(
      () => ["iscsi_host", "power", "scsi_host", "subsystem", "uevent", ...Array.from(h.sessions.keys(), (sid) => `session${sid}`)],
      (name) => {
        if (name === "subsystem") return hostSubsystem
        if (name === "uevent") return uevent
        if (name === "iscsi_host") return iscsiHostDir
        if (name === "scsi_host") return scsiHostDir
        if (name === "power") return power
        const s = sessionOf(name, "session")
        return s && s.host === h ? session(s) : undefined
      }
    )
  })

  const dm = memo((m: SimMap): VNode =>
    fixed({
      ...blockCommon(() => m.sizeBytes, `253:${m.minor}`, `253:${m.minor}`),
      dm: fixed({
        name: file(() => m.name),
        rq_based_seq_io_merge_deadline: file(() => "0"),
        suspended: file(() => "0"),
        use_blk_mq: file(() => "1"),
        uuid: file(() => m.uuid)
      }),
      holders: empty,
      slaves: dynamic(
        () => Array.from(m.paths, (p) => p.name),
        (n) => {
          const d = st.disks.get(n)
          return d && d.map === m ? diskLink(d) : undefined
        }
      )
    }))

  const platform = dynamic(
    () => Array.from(st.hosts.values()).filter((h) => !h.hba).map((h) => `host${h.no}`),
    (name) => {
      const h = hostOf(name)
      return h && !h.hba ? host(h) : undefined
    }
  )
  const pci = dynamic(
    () => st.hbas.map((h) => h.pciAddress),
    (addr) => {
      const hba = st.hbas.find((h) => h.pciAddress === addr)
      if (!hba) return undefined
      const h = hba.host
      return h ? single(`host${h.no}`, () => host(h)) : empty
    }
  )
  const virtualBlock = dynamic(() => Array.from(st.mapsByMinor.keys(), (m) => `dm-${m}`), (n) => {
    const m = mapOf(n)
    return m ? dm(m) : undefined
  })
  const transportsDir = dynamic(() => Array.from(st.transports), (t) => (st.transports.has(t) ? empty : undefined))
  const virtual = fixed({ block: () => virtualBlock, iscsi_transport: () => transportsDir })
  const devices: VNode = fixed({ platform: () => platform, "pci0000:00": () => pci, virtual: () => virtual })

  // ---------------------------------------------------------------- classes
  const sessionClassLink = memo((s: SimSession) => link(`${sessionDir(s)}/iscsi_session/session${s.sid}`))
  const connectionClassLink = memo((s: SimSession) => link(`${sessionDir(s)}/connection${s.sid}:0/iscsi_connection/connection${s.sid}:0`))
  const iscsiHostClassLink = memo((h: SimScsiHost) => link(`${hostDir(h)}/iscsi_host/host${h.no}`))
  const scsiHostClassLink = memo((h: SimScsiHost) => link(`${hostDir(h)}/scsi_host/host${h.no}`))
  const scsiDeviceClassLink = memo((d: SimScsiDevice) => link(`${deviceDir(d)}/scsi_device/${d.hctl}`))
  const classDirs: Record<string, VNode> = {
    iscsi_session: dynamic(sessionNames, (name) => {
        const s = sessionOf(name, "session")
        return s ? sessionClassLink(s) : undefined
      }, true),
    iscsi_connection: dynamic(() => Array.from(st.sessions.keys(), (sid) => `connection${sid}:0`), (name) => {
        const s = sessionOf(name, "connection", ":0")
        return s ? connectionClassLink(s) : undefined
      }),
    iscsi_host: dynamic(hostNames, (name) => {
        const h = hostOf(name)
        return h ? iscsiHostClassLink(h) : undefined
      }),
    scsi_host: dynamic(hostNames, (name) => {
        const h = hostOf(name)
        return h ? scsiHostClassLink(h) : undefined
      }),
    scsi_device: dynamic(() => Array.from(st.scsi.keys()), (hctl) => {
        const d = st.scsi.get(hctl)
        return d ? scsiDeviceClassLink(d) : undefined
      }),
    iscsi_transport: dynamic(() => Array.from(st.transports), (t) => (st.transports.has(t) ? link(`/sys/devices/virtual/iscsi_transport/${t}`) : undefined)),
    block: dynamic(blockNames, blockLink)
  }
  const classes = fixed(Object.fromEntries(Object.entries(classDirs).map(([k, v]) => [k, () => v])))
  const sysBlock = dynamic(blockNames, blockLink)

  const sys = fixed({
    block: () => sysBlock,
    class: () => classes,
    devices: () => devices
  })

  // ---------------------------------------------------------------- /dev
  const devNode = file(() => "")
  const byIdNames = (): Array<string> => {
    const names: Array<string> = []
    const wwids = new Set([...st.pathsByWwid.keys(), ...Array.from(st.maps.values(), (m) => m.wwid)])
    for (const w of wwids) if (st.byIdTarget(w)) names.push(...SimNames.byIdNames(w))
    for (const m of st.maps.values()) names.push(`dm-name-${m.name}`, `dm-uuid-${m.uuid}`)
    const serials = new Set<string>()
    for (const d of st.disks.values()) {
      if (!d.udevDone || serials.has(d.serial)) continue
      serials.add(d.serial)
      names.push(...SimNames.bySerialNames(d.model, d.serial))
    }
    return names
  }
  const byIdChild = (name: string): VNode | undefined => {
    const m = /^dm-(?:name|uuid-mpath)-(.+)$/.exec(name)
    if (m) {
      const map = st.maps.get(m[1]!)
      return map ? devDmLink(map) : undefined
    }
    const serial = SimNames.serialOfByIdName(name)
    if (serial !== undefined) {
      const d = st.bySerialTarget(SimNames.wwidOfSerial(serial), serial)
      return d && SimNames.bySerialNames(d.model, serial).includes(name) ? devDiskLink(d) : undefined
    }
    const wwid = SimNames.wwidOfByIdName(name)
    const t = wwid === undefined ? undefined : st.byIdTarget(wwid)
    if (t === undefined) return undefined
    return "minor" in t ? devDmLink(t) : devDiskLink(t)
  }
  const devDiskLink = memo((d: SimScsiDevice) => link(`/dev/${d.name}`))
  const devDmLink = memo((m: SimMap) => link(`/dev/dm-${m.minor}`))
  const byPath = dynamic(() => st.byPath.sortedKeys, (n) => {
    const d = st.byPathTarget(n)
    return d ? devDiskLink(d) : undefined
  }, true)
  const byId = dynamic(byIdNames, byIdChild)
  const disk = fixed({ "by-path": () => byPath, "by-id": () => byId })
  const mapper = dynamic(() => ["control", ...st.maps.keys()], (n) => {
    if (n === "control") return devNode
    const m = st.maps.get(n)
    return m ? devDmLink(m) : undefined
  })
  const dev = dynamic(
    () => [
      "disk",
      "mapper",
      ...Array.from(st.disks.values()).filter((d) => d.devNode).map((d) => d.name),
      ...Array.from(st.mapsByMinor.keys(), (m) => `dm-${m}`)
    ],
    (name) => {
      if (name === "disk") return disk
      if (name === "mapper") return mapper
      if (st.disks.get(name)?.devNode) return devNode
      return mapOf(name) ? devNode : undefined
    }
  )

  return fixed({ sys: () => sys, dev: () => dev })
}
