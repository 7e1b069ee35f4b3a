/**
 * The /sys and /dev trees of a simulated host, derived on demand from its
 * state with the real kernel's layout for iSCSI (software hosts under
 * /sys/devices/platform, offload HBAs under their PCI device), and udev's
 * and device-mapper's /dev links.
 */
import { driverOf } from "./SimHbaDriver.ts"
import type { SimHba, SimMap, SimScsiDevice, SimScsiHost, SimSession } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import * as SimRandom from "./SimRandom.ts"
import type { SimState } from "./SimState.ts"
import {
  dynamic,
  empty,
  file,
  fixed,
  link,
  readWrite,
  type Shape,
  shape,
  shaped,
  shapes,
  single,
  type VNode,
  writeOnly
} from "./SimTree.ts"

/**
 * Per-object caches of one view (a session's, a disk's… nodes: their names
 * never change). Each model object gets one hidden slot (a non-enumerable
 * symbol property, the same for every view, so every object of a kind keeps
 * one shape) holding, per view, each cache's value at the cache's index:
 * cheaper than a WeakMap per cache, looked up on every path resolution.
 * Dropped with the object.
 */
const slot = Symbol("SimView")
type Slotted = { [slot]?: Array<unknown> }

/** The values of `view` on `k`: its slot holds `[view, values, view2, values2, …]` (usually one view: its host's). */
const valuesOf = (k: object, view: object): Array<unknown> => {
  const holder = k as Slotted
  let all = holder[slot]
  if (all === undefined) {
    all = []
    // one symbol for every view and host, so every object of a kind keeps one shape
    Object.defineProperty(k, slot, { value: all })
  }
  for (let i = 0; i < all.length; i += 2) if (all[i] === view) return all[i + 1] as Array<unknown>
  const values: Array<unknown> = []
  all.push(view, values)
  return values
}

const makeMemo = () => {
  const view = {}
  let caches = 0
  return <K extends object, V>(f: (k: K) => V): (k: K) => V => {
    const index = caches++
    return (k) => {
      const values = valuesOf(k, view)
      let v = values[index] as V | undefined
      if (v === undefined) values[index] = v = f(k)
      return v
    }
  }
}

/** Canonical sysfs directory of a SCSI host. */
export const hostDir = (h: SimScsiHost): string =>
  h.hba ? `${pciDir(h.hba)}/host${h.no}` : `/sys/devices/platform/host${h.no}`
/** Canonical sysfs directory of an HBA's PCI function (behind its bridge). */
export const pciDir = (hba: SimHba): string => `/sys/devices/pci0000:00/${hba.bridge}/${hba.pciAddress}`
/** Canonical sysfs directory of a kernel iface (qla4xxx, be2iscsi). */
export const kernelIfaceDir = (h: SimScsiHost, name: string): string => `${hostDir(h)}/iscsi_iface/${name}`
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
const uevent = file(() => "")
const constants = new Map<string, VNode>()
/** A read-only file whose text never changes (one node shared by every object: only for a bounded set of texts). */
const text = (value: string): VNode => {
  let n = constants.get(value)
  if (n === undefined) constants.set(value, n = file(() => value))
  return n
}
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
  const memo2 = makeMemo()
  const memo = <K extends object>(f: (k: K) => VNode): (k: K) => VNode => memo2(f)
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
  // Links into the device tree name their target node directly (`at`): they
  // are only reached through lookups that check the object is still there.
  const diskLink = memo((d: SimScsiDevice) => link(blockDir(d), () => block(d)))
  const dmLink = memo((m: SimMap) => link(dmDir(m), () => dm(m)))
  const blockLink = (name: string): VNode | undefined => {
    const d = st.disks.get(name)
    if (d) return diskLink(d)
    const m = mapOf(name)
    return m ? dmLink(m) : undefined
  }

  // ---------------------------------------------------------------- device tree
  /** The `device` links of class directories, back to the host's, session's and connection's directories. */
  const hostLink = memo((h: SimScsiHost) => link(hostDir(h), () => host(h)))
  const sessionLink = memo((s: SimSession) => link(sessionDir(s), () => session(s)))
  const connectionLink = memo((s: SimSession) => link(`${sessionDir(s)}/connection${s.sid}:0`, () => connectionDir(s)))
  const connectionDir = memo((s: SimSession) =>
    fixed({ iscsi_connection: single(`connection${s.sid}:0`, () => iscsiConnection(s)), power: power, uevent: uevent })
  )

  /**
   * iscsi_host attributes, those the host's driver shows (SimHbaDriver);
   * iscsid leaves a software host's netdev/hwaddress/initiatorname unset
   * ("(null)") unless the iface binds them.
   */
  const iscsiHostFiles = {
    hwaddress: (h: SimScsiHost) => file(() => h.hwaddress),
    initiatorname: (h: SimScsiHost) => file(() => h.initiatorName),
    ipaddress: (h: SimScsiHost) => file(() => h.ipaddress),
    netdev: (h: SimScsiHost) => file(() => h.netdev),
    port_speed: text("10 Gbps"),
    port_state: text("LINK_UP")
  }
  const iscsiHostShapes = new Map<string, Shape<SimScsiHost>>()
  const iscsiHostShape = (transport: string): Shape<SimScsiHost> => {
    let sh = iscsiHostShapes.get(transport)
    if (sh === undefined) {
      const visible = Object.fromEntries(driverOf(transport).hostAttributes.map((a) => [a, iscsiHostFiles[a]]))
      iscsiHostShapes.set(
        transport,
        sh = shape<SimScsiHost>({
          ...visible,
          device: (h) => hostLink(h),
          power: power,
          subsystem: link("/sys/class/iscsi_host"),
          uevent
        })
      )
    }
    return sh
  }
  const iscsiHost = memo((h: SimScsiHost): VNode => shaped(iscsiHostShape(h.transport), h))

  /** A kernel iface's attributes (the ones brick and iscsiadm read). */
  const kernelIfaceNode = (h: SimScsiHost, address: string): VNode =>
    fixed({
      bootproto: text("static"),
      device: link(hostDir(h), () => host(h)),
      enabled: text("enabled"),
      ipaddress: file(() => address),
      port: text("3260"),
      subsystem: link("/sys/class/iscsi_iface"),
      uevent
    })
  const kernelIfaces = (h: SimScsiHost): ReadonlyArray<{ readonly name: string; readonly address: string }> =>
    h.hba
      ? st.kernelIfacesOf(h.hba).map((k) => ({ name: `${k.family}-iface-${h.no}-${k.num}`, address: k.address }))
      : []
  const kernelIfacesDir = memo((h: SimScsiHost): VNode =>
    dynamic(() => kernelIfaces(h).map((k) => k.name), (n) => {
      const k = kernelIfaces(h).find((x) => x.name === n)
      return k ? kernelIfaceNode(h, k.address) : undefined
    })
  )

  /** scsi_host attributes as the lab's iscsi_tcp host shows them; `scan` and `host_reset` are write-only. */
  const scsiHostShape = shape<SimScsiHost>({
    active_mode: text("Initiator"),
    can_queue: text("113"),
    cmd_per_lun: text("32"),
    device: (h) => hostLink(h),
    eh_deadline: text("off"),
    host_busy: text("0"),
    host_reset: writeOnly(() => undefined),
    nr_hw_queues: text("1"),
    power: power,
    proc_name: (h) => text(driverOf(h.transport).procName),
    prot_capabilities: text("0"),
    prot_guard_type: text("0"),
    scan: (h) =>
      writeOnly((value) => {
        const parts = value.trim().split(/\s+/)
        if (parts.length !== 3) return { errno: "EINVAL" }
        const nums = parts.map((p) => (p === "-" ? undefined : /^\d{1,10}$/.test(p) ? Number(p) : Number.NaN))
        if (nums.some((n) => n !== undefined && Number.isNaN(n))) return { errno: "EINVAL" }
        st.scanHost(h, nums[0], nums[1], nums[2])
        return undefined
      }),
    sg_prot_tablesize: text("0"),
    sg_tablesize: text("4096"),
    state: text("running"),
    subsystem: link("/sys/class/scsi_host"),
    supported_mode: text("Initiator"),
    uevent,
    unique_id: text("0"),
    use_blk_mq: text("1")
  })
  const scsiHost = memo((h: SimScsiHost): VNode => shaped(scsiHostShape, h))

  /** Every attribute the lab's kernel (6.1) shows in an iscsi_session, with its values there. */
  const nullable = (v: string | undefined) => file(() => v ?? "(null)")
  const iscsiSessionShape = shape<SimSession>({
    abort_tmo: text("15"),
    creator: text(String(st.iscsidPid)),
    data_pdu_in_order: text("0"),
    data_seq_in_order: text("0"),
    device: (s) => sessionLink(s),
    erl: text("0"),
    fast_abort: text("1"),
    first_burst_len: text("65536"),
    ifacename: (s) => file(() => s.iface),
    immediate_data: text("1"),
    initial_r2t: text("1"),
    initiatorname: (s) => file(() => s.initiatorName),
    lu_reset_tmo: text("30"),
    max_burst_len: text("262144"),
    max_outstanding_r2t: text("1"),
    password: (s) => nullable(s.password),
    password_in: (s) => nullable(s.passwordIn),
    power: power,
    recovery_tmo: (s) =>
      readWrite(() => String(s.recoveryTmo), (v) => {
        if (!/^\d+$/.test(v.trim())) return { errno: "EINVAL" }
        s.recoveryTmo = Number(v.trim())
        return undefined
      }),
    state: (s) => file(() => s.state),
    subsystem: link("/sys/class/iscsi_session"),
    target_id: (s) => file(() => String(s.targetId)),
    target_state: (s) => file(() => (s.scanned ? "SCANNED" : "ALLOCATED")),
    targetname: (s) => file(() => s.iqn),
    tgt_reset_tmo: text("30"),
    tpgt: (s) => file(() => String(s.tpgt)),
    uevent,
    username: (s) => nullable(s.username),
    username_in: (s) => nullable(s.usernameIn)
  })
  const iscsiSession = memo((s: SimSession): VNode => shaped(iscsiSessionShape, s))

  /** iscsi_connection attributes as the lab kernel shows them (exp_statsn and local_port drawn per session from the seed). */
  /** A connection's address, port and the values drawn for it from the seed (computed once per session). */
  const connectionFacts = memo2((s: SimSession) => {
    const a = SimNames.portalAddress(s.portal)
    const r = SimRandom.make(SimRandom.hash("connection", st.seed, s.sid))
    const expStatsn = String(r.int(4294967296))
    const localPort = String(32768 + r.int(28232))
    // per-session nodes, not `text` (its shared table must not grow with every session)
    const port = String(a.port)
    return {
      address: file(() => a.address),
      port: file(() => port),
      expStatsn: file(() => expStatsn),
      localPort: file(() => localPort)
    }
  })
  const iscsiConnectionShape = shape<SimSession>({
    address: (s) => connectionFacts(s).address,
    data_digest: text("0"),
    device: (s) => connectionLink(s),
    exp_statsn: (s) => connectionFacts(s).expStatsn,
    header_digest: text("0"),
    local_port: (s) => connectionFacts(s).localPort,
    max_recv_dlength: text("262144"),
    max_xmit_dlength: text("262144"),
    persistent_address: (s) => connectionFacts(s).address,
    persistent_port: (s) => connectionFacts(s).port,
    ping_tmo: text("5"),
    port: (s) => connectionFacts(s).port,
    power: power,
    recv_tmo: text("5"),
    state: (s) => file(() => (s.state === "LOGGED_IN" ? "up" : "failed")),
    subsystem: link("/sys/class/iscsi_connection"),
    uevent
  })
  const iscsiConnection = memo((s: SimSession): VNode => shaped(iscsiConnectionShape, s))

  /** Attributes every block device shows (lab kernel 6.1); `dev` numbers follow sd's and dm's majors. */
  const blockQueue = fixed({ logical_block_size: text("512"), physical_block_size: text("512") })
  /** The attributes of a block device whose size is `size(k)` and whose `major:minor` (and bdi name) is `dev(k)`. */
  const blockCommon = <K>(size: (k: K) => number, dev: (k: K) => string): Shape<K> =>
    shape<K>({
      alignment_offset: text("0"),
      bdi: (k) => link(`/sys/devices/virtual/bdi/${dev(k)}`),
      capability: text("0"),
      dev: (k) => {
        const d = dev(k)
        return file(() => d)
      },
      discard_alignment: text("0"),
      diskseq: text("0"),
      events: text(""),
      events_async: text(""),
      events_poll_msecs: text("-1"),
      ext_range: text("256"),
      hidden: text("0"),
      inflight: text("       0        0"),
      integrity: empty,
      mq: empty,
      power,
      queue: blockQueue,
      range: text("0"),
      removable: text("0"),
      ro: text("0"),
      size: (k) => file(() => sectors(size(k))),
      stat: text("       0        0        0        0"),
      subsystem: link("/sys/class/block"),
      trace: empty,
      uevent: (k) => {
        const d = dev(k)
        return file(() => `MAJOR=${d.split(":")[0]}\nMINOR=${d.split(":")[1]}\nDEVTYPE=disk`)
      }
    })
  const sdDev = (index: number): string => {
    const majors = [8, 65, 66, 67, 68, 69, 70, 71, 128, 129, 130, 131, 132, 133, 134, 135]
    return index < 256 ? `${majors[index >> 4]}:${(index & 15) * 16}` : `259:${index}`
  }

  const blockShape = shapes(
    blockCommon<SimScsiDevice>((d) => d.sizeBytes, (d) => sdDev(d.diskIndex)),
    shape<SimScsiDevice>({
      device: (d) => deviceLink(d),
      holders: (d) =>
        dynamic(
          () => (d.map ? [`dm-${d.map.minor}`] : []),
          (n) => (d.map && n === `dm-${d.map.minor}` ? dmLink(d.map) : undefined),
          true
        ),
      slaves: empty
    })
  )
  const block = memo((d: SimScsiDevice): VNode => shaped(blockShape, d))

  /** A SCSI disk's attributes as the lab's LIO disks show them; binary pages are approximations of the right length. */
  const zero = (n: number) => text("\0".repeat(n))
  /** A device's `…/H:C:T:L` link (its class entries' `device`), made once per device. */
  const deviceLink = memo((d: SimScsiDevice): VNode => link(deviceDir(d), () => scsiDevice(d)))
  const deviceLinkDir = memo((d: SimScsiDevice): VNode => single("device", () => deviceLink(d)))
  const scsiDeviceShape = shape<SimScsiDevice>({
    access_state: text("active/optimized"),
    blacklist: text(""),
    block: (d) => single(d.name, () => block(d)),
    bsg: (d) => single(d.hctl, () => empty),
    driver: link("/sys/bus/scsi/drivers/sd"),
    generic: (d) => link(`${deviceDir(d)}/scsi_generic/sg${d.diskIndex}`),
    delete: (d) =>
      writeOnly(() => {
        st.removeDevice(d)
        return undefined
      }),
    device_blocked: text("0"),
    device_busy: text("0"),
    dh_state: text("alua"),
    eh_timeout: text("10"),
    evt_capacity_change_reported: text("0"),
    evt_inquiry_change_reported: text("0"),
    evt_lun_change_reported: text("0"),
    evt_media_change: text("0"),
    evt_mode_parameter_change_reported: text("0"),
    evt_soft_threshold_reached: text("0"),
    inquiry: (d) =>
      file(() => ("\0".repeat(8) + pad("LIO-ORG", 8) + pad(d.model, 16) + pad("4.0", 4)).padEnd(96, "\0")),
    iocounterbits: text("32"),
    iodone_cnt: text("0x0"),
    ioerr_cnt: text("0x0"),
    iorequest_cnt: text("0x0"),
    iotmo_cnt: text("0x0"),
    modalias: text("scsi:t-0x00"),
    model: (d) => file(() => pad(d.model, 16)),
    power: power,
    preferred_path: text("0"),
    queue_depth: text("32"),
    queue_ramp_up_period: text("120000"),
    queue_type: text("simple"),
    rescan: (d) =>
      writeOnly(() => {
        st.rescanDevice(d)
        return undefined
      }),
    rev: text(pad("4.0", 4)),
    scsi_device: (d) => single(d.hctl, () => deviceLinkDir(d)),
    scsi_disk: (d) => single(d.hctl, () => deviceLinkDir(d)),
    scsi_generic: (d) => single(`sg${d.diskIndex}`, () => deviceLinkDir(d)),
    scsi_level: text("7"),
    state: (d) => file(() => st.deviceState(d)),
    subsystem: link("/sys/bus/scsi"),
    timeout: text("30"),
    type: text("0"),
    uevent: text("DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00"),
    vendor: text(pad("LIO-ORG", 8)),
    vpd_pg0: zero(12),
    vpd_pg80: (d) => file(() => `\0\x80\0${String.fromCharCode(d.serial.length + 1)}${d.serial}\0`),
    vpd_pg83: zero(184),
    vpd_pgb0: zero(20),
    vpd_pgb1: zero(64),
    vpd_pgb2: zero(8),
    wwid: (d) => file(() => d.wwid)
  })
  const scsiDevice = memo((d: SimScsiDevice): VNode => shaped(scsiDeviceShape, d))

  const session = memo((s: SimSession): VNode => {
    const conn = `connection${s.sid}:0`
    const target = `target${s.host.no}:0:${s.targetId}`
    const connDir = connectionDir(s)
    const sessDir = single(`session${s.sid}`, () => iscsiSession(s))
    const targetExtras = new Map<string, VNode>([["power", power], ["subsystem", link("/sys/bus/scsi")], [
      "uevent",
      uevent
    ]])
    // entries come sorted (listing them is a copy): H:C:T:L names start with a digit, before the attributes
    const targetNode = dynamic(
      () => {
        const hctls = Array.from(s.devices.values(), (d) => d.hctl)
        if (hctls.length > 1) hctls.sort()
        hctls.push("power", "subsystem", "uevent")
        return hctls
      },
      (name) => {
        const d = st.scsi.get(name)
        return d && d.session === s ? scsiDevice(d) : targetExtras.get(name)
      },
      true
    )
    const withTarget = [conn, "iscsi_session", "power", target, "uevent"]
    const withoutTarget = [conn, "iscsi_session", "power", "uevent"]
    return dynamic(
      () => (s.devices.size > 0 ? withTarget : withoutTarget),
      (name) => {
        if (name === conn) return connDir
        if (name === "iscsi_session") return sessDir
        if (name === "power") return power
        if (name === "uevent") return uevent
        if (name === target && s.devices.size > 0) return targetNode
        return undefined
      },
      true
    )
  })

  const hostSubsystem = link("/sys/bus/scsi")
  const host = memo((h: SimScsiHost): VNode => {
    const iscsiHostDir = single(`host${h.no}`, () => iscsiHost(h))
    const scsiHostDir = single(`host${h.no}`, () => scsiHost(h))
    return dynamic(
      () => [
        ...(kernelIfaces(h).length > 0 ? ["iscsi_iface"] : []),
        "iscsi_host",
        "power",
        "scsi_host",
        "subsystem",
        "uevent",
        ...Array.from(h.sessions.keys(), (sid) => `session${sid}`)
      ],
      (name) => {
        if (name === "subsystem") return hostSubsystem
        if (name === "uevent") return uevent
        if (name === "iscsi_host") return iscsiHostDir
        if (name === "iscsi_iface") return kernelIfaces(h).length > 0 ? kernelIfacesDir(h) : undefined
        if (name === "scsi_host") return scsiHostDir
        if (name === "power") return power
        const s = sessionOf(name, "session")
        return s && s.host === h ? session(s) : undefined
      }
    )
  })

  const dmDirShape = shape<SimMap>({
    name: (m) => file(() => m.name),
    rq_based_seq_io_merge_deadline: text("0"),
    suspended: text("0"),
    use_blk_mq: text("1"),
    uuid: (m) => file(() => m.uuid)
  })
  const dmShape = shapes(
    blockCommon<SimMap>((m) => m.sizeBytes, (m) => `253:${m.minor}`),
    shape<SimMap>({
      dm: (m) => shaped(dmDirShape, m),
      holders: empty,
      slaves: (m) =>
        dynamic(
          () => Array.from(m.paths, (p) => p.name),
          (n) => {
            const d = st.disks.get(n)
            return d && d.map === m ? diskLink(d) : undefined
          }
        )
    })
  )
  const dm = memo((m: SimMap): VNode => shaped(dmShape, m))

  const platform = dynamic(
    () => Array.from(st.hosts.values()).filter((h) => !h.hba).map((h) => `host${h.no}`),
    (name) => {
      const h = hostOf(name)
      return h && !h.hba ? host(h) : undefined
    }
  )
  /** pci0000:00: the HBAs' bridges, each with its functions, each with its SCSI host while the driver is bound. */
  const pciFunction = (hba: SimHba): VNode => {
    const h = hba.host
    return h ? single(`host${h.no}`, () => host(h)) : empty
  }
  const pci = dynamic(
    () => [...new Set(st.hbas.map((h) => h.bridge))].sort(),
    (bridge) =>
      st.hbas.some((h) => h.bridge === bridge)
        ? dynamic(
          () => st.hbas.filter((h) => h.bridge === bridge).map((h) => h.pciAddress).sort(),
          (addr) => {
            const hba = st.hbas.find((h) => h.bridge === bridge && h.pciAddress === addr)
            return hba ? pciFunction(hba) : undefined
          }
        )
        : undefined
  )
  const virtualBlock = dynamic(() => Array.from(st.mapsByMinor.keys(), (m) => `dm-${m}`), (n) => {
    const m = mapOf(n)
    return m ? dm(m) : undefined
  })
  /** A loaded transport's class device: its handle and capabilities (values stand for the kernel's). */
  const transportNode = (t: string): VNode =>
    fixed({
      caps: text(driverOf(t).kernelIfaces ? "0x1b9" : "0x39"),
      handle: text(String(0xa0000000 + 0x1000 * Math.max(0, [...st.transports].indexOf(t)))),
      power,
      subsystem: link("/sys/class/iscsi_transport"),
      uevent
    })
  const transportsDir = dynamic(
    () => Array.from(st.transports),
    (t) => (st.transports.has(t) ? transportNode(t) : undefined)
  )
  const virtual = fixed({ block: () => virtualBlock, iscsi_transport: () => transportsDir })
  const devices: VNode = fixed({ platform: () => platform, "pci0000:00": () => pci, virtual: () => virtual })

  // ---------------------------------------------------------------- classes
  const sessionClassLink = memo((s: SimSession) =>
    link(`${sessionDir(s)}/iscsi_session/session${s.sid}`, () => iscsiSession(s))
  )
  const connectionClassLink = memo((s: SimSession) =>
    link(`${sessionDir(s)}/connection${s.sid}:0/iscsi_connection/connection${s.sid}:0`, () => iscsiConnection(s))
  )
  const iscsiHostClassLink = memo((h: SimScsiHost) => link(`${hostDir(h)}/iscsi_host/host${h.no}`, () => iscsiHost(h)))
  const scsiHostClassLink = memo((h: SimScsiHost) => link(`${hostDir(h)}/scsi_host/host${h.no}`, () => scsiHost(h)))
  const scsiDeviceClassLink = memo((d: SimScsiDevice) =>
    link(`${deviceDir(d)}/scsi_device/${d.hctl}`, () => deviceLinkDir(d))
  )
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
    iscsi_iface: dynamic(
      () => Array.from(st.hosts.values(), (h) => kernelIfaces(h).map((k) => k.name)).flat(),
      (name) => {
        const m = /^ipv[46]-iface-(\d+)-\d+$/.exec(name)
        const h = m ? st.hosts.get(Number(m[1])) : undefined
        return h && kernelIfaces(h).some((k) => k.name === name) ? link(kernelIfaceDir(h, name)) : undefined
      }
    ),
    iscsi_transport: dynamic(
      () => Array.from(st.transports),
      (t) => (st.transports.has(t) ? link(`/sys/devices/virtual/iscsi_transport/${t}`) : undefined)
    ),
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
