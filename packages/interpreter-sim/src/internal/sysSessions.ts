/**
 * The sysfs directories of iSCSI sessions on a simulated host, with the
 * attributes and values the lab's kernel (6.1) shows: a SCSI host's
 * directory (its iscsi_host and scsi_host entries, its sessions), a
 * session's (iscsi_session, its connection, its SCSI target and devices).
 */
import { driverOf, type HostAttribute, kernelIfacesOf } from "../SimHbaDriver.ts"
import type { SimScsiHost, SimSession } from "../SimModel.ts"
import * as SimNames from "../SimNames.ts"
import * as SimRandom from "../SimRandom.ts"
import * as SimScsi from "../SimScsi.ts"
import type { SimState } from "../SimState.ts"
import { dynamic, file, fixed, link, merged, readWrite, table, text, type VNode, writeOnly } from "../SimTree.ts"
import { nullable, power, uevent } from "./sysCommon.ts"
import { connectionDir, hostDir, sessionDir } from "./sysPaths.ts"
import { scsiDevice } from "./sysScsi.ts"

/** The iscsi_host attribute files (which a host shows is its driver's: SimHbaDriver). */
const iscsiHostFiles: Readonly<Record<HostAttribute, (h: SimScsiHost) => VNode>> = {
  hwaddress: (h) => file(() => h.hwaddress),
  initiatorname: (h) => file(() => h.initiatorName),
  ipaddress: (h) => file(() => h.ipaddress),
  netdev: (h) => file(() => h.netdev),
  port_speed: () => text("10 Gbps"),
  port_state: () => text("LINK_UP")
}

/**
 * iscsi_host attributes, those the host's driver shows; iscsid leaves a
 * software host's netdev/hwaddress/initiatorname unset ("(null)") unless
 * the iface binds them.
 */
const iscsiHost = (h: SimScsiHost): VNode => {
  const entries: Record<string, VNode> = {
    device: link(hostDir(h)),
    power,
    subsystem: link("/sys/class/iscsi_host"),
    uevent
  }
  for (const a of driverOf(h.transport).hostAttributes) entries[a] = iscsiHostFiles[a](h)
  return fixed(Object.fromEntries(Object.keys(entries).sort().map((k) => [k, entries[k]!])))
}

/** The kernel ifaces of a host, by name (`ipv4-iface-H-N`). */
export const kernelIfacesOfHost = (
  h: SimScsiHost
): ReadonlyArray<{ readonly name: string; readonly address: string }> =>
  h.hba ? kernelIfacesOf(h.hba).map((k) => ({ name: `${k.family}-iface-${h.no}-${k.num}`, address: k.address })) : []

/** A kernel iface's attributes (those brick and iscsiadm read). */
const kernelIface = (h: SimScsiHost, address: string): VNode =>
  fixed({
    bootproto: text("static"),
    device: link(hostDir(h)),
    enabled: text("enabled"),
    ipaddress: text(address),
    port: text("3260"),
    subsystem: link("/sys/class/iscsi_iface"),
    uevent
  })

/** A host's iscsi_iface directory; none when its driver registers no kernel iface. */
const kernelIfaces = (h: SimScsiHost): VNode | undefined => {
  const all = kernelIfacesOfHost(h)
  return all.length === 0 ? undefined : fixed(Object.fromEntries(all.map((k) => [k.name, kernelIface(h, k.address)])))
}

/** A host's `scan`: `channel target lun`, each a number or `-` (any). */
const scan = (h: SimScsiHost, st: SimState): VNode =>
  writeOnly((value) => {
    const parts = value.trim().split(/\s+/)
    if (parts.length !== 3) return { errno: "EINVAL" }
    const nums = parts.map((p) => (p === "-" ? undefined : /^\d{1,10}$/.test(p) ? Number(p) : Number.NaN))
    if (nums.some((n) => n !== undefined && Number.isNaN(n))) return { errno: "EINVAL" }
    SimScsi.scanHost(st, h, nums[0], nums[1], nums[2])
    return undefined
  })

/** scsi_host attributes as the lab's iscsi_tcp host shows them; `scan` and `host_reset` are write-only. */
const scsiHost = table<SimScsiHost, SimState>({
  active_mode: text("Initiator"),
  can_queue: text("113"),
  cmd_per_lun: text("32"),
  device: (h) => link(hostDir(h)),
  eh_deadline: text("off"),
  host_busy: text("0"),
  host_reset: writeOnly(() => undefined),
  nr_hw_queues: text("1"),
  power,
  proc_name: (h) => text(driverOf(h.transport).procName),
  prot_capabilities: text("0"),
  prot_guard_type: text("0"),
  scan,
  sg_prot_tablesize: text("0"),
  sg_tablesize: text("4096"),
  state: text("running"),
  subsystem: link("/sys/class/scsi_host"),
  supported_mode: text("Initiator"),
  uevent,
  unique_id: text("0"),
  use_blk_mq: text("1")
})

/** Every attribute the lab's kernel shows in an iscsi_session, with its values there. */
const iscsiSession = table<SimSession, SimState>({
  abort_tmo: text("15"),
  creator: (_, st) => text(String(st.iscsidPid)),
  data_pdu_in_order: text("0"),
  data_seq_in_order: text("0"),
  device: (s) => link(sessionDir(s)),
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
  power,
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

/** The connection's local state drawn for a session from the seed (the lab's values vary run to run). */
const drawn = (s: SimSession, st: SimState) => {
  const r = SimRandom.make(SimRandom.hash("connection", st.seed, s.sid))
  const expStatsn = String(r.int(4294967296))
  return { expStatsn, localPort: String(32768 + r.int(28232)) }
}

/** iscsi_connection attributes as the lab kernel shows them. */
const iscsiConnection = table<SimSession, SimState>({
  address: (s) => text(SimNames.portalAddress(s.portal).address),
  data_digest: text("0"),
  device: (s) => link(connectionDir(s)),
  exp_statsn: (s, st) => text(drawn(s, st).expStatsn),
  header_digest: text("0"),
  local_port: (s, st) => text(drawn(s, st).localPort),
  max_recv_dlength: text("262144"),
  max_xmit_dlength: text("262144"),
  persistent_address: (s) => text(SimNames.portalAddress(s.portal).address),
  persistent_port: (s) => text(String(SimNames.portalAddress(s.portal).port)),
  ping_tmo: text("5"),
  port: (s) => text(String(SimNames.portalAddress(s.portal).port)),
  power,
  recv_tmo: text("5"),
  state: (s) => file(() => (s.state === "LOGGED_IN" ? "up" : "failed")),
  subsystem: link("/sys/class/iscsi_connection"),
  uevent
})

/** A session's SCSI target: its devices (`H:C:T:L`) and the target's own attributes. */
const target = (s: SimSession, st: SimState): VNode =>
  merged(
    dynamic(() => Array.from(s.devices.values(), (d) => d.hctl), (name) => {
      const d = st.scsi.get(name)
      return d && d.session === s ? scsiDevice(d, st) : undefined
    }),
    fixed({ power, subsystem: link("/sys/bus/scsi"), uevent })
  )

/** A session's directory under its host: connection, iscsi_session, and its target once it has devices. */
const session = (s: SimSession, st: SimState): VNode => {
  const connection = `connection${s.sid}:0`
  const targetName = `target${s.host.no}:0:${s.targetId}`
  return fixed({
    [connection]: () =>
      fixed({
        iscsi_connection: () => fixed({ [connection]: () => iscsiConnection(s, st) }),
        power,
        uevent
      }),
    iscsi_session: () => fixed({ [`session${s.sid}`]: () => iscsiSession(s, st) }),
    power,
    [targetName]: () => (s.devices.size > 0 ? target(s, st) : undefined),
    uevent
  })
}

/** A SCSI host's directory: its iscsi_host and scsi_host entries and its sessions. */
export const host = (h: SimScsiHost, st: SimState): VNode =>
  merged(
    fixed({
      iscsi_host: () => fixed({ [`host${h.no}`]: () => iscsiHost(h) }),
      iscsi_iface: () => kernelIfaces(h),
      power,
      scsi_host: () => fixed({ [`host${h.no}`]: () => scsiHost(h, st) }),
      subsystem: link("/sys/bus/scsi"),
      uevent
    }),
    dynamic(() => Array.from(h.sessions.keys(), (sid) => `session${sid}`), (name) => {
      const sid = SimNames.numbered(name, "session")
      const s = sid === undefined ? undefined : h.sessions.get(sid)
      return s ? session(s, st) : undefined
    })
  )
