/**
 * Sessions on a simulated host: the network to each portal, SCSI hosts (one
 * per session for software transports, one per loaded HBA for offload ones),
 * logins creating sessions and logouts destroying them with their devices.
 */
import { Option, Redacted } from "effect"
import { isOffloadDriver } from "./SimHbaDriver.ts"
import type { SimHba, SimIface, SimNet, SimNode, SimScsiHost, SimSession } from "./SimModel.ts"
import * as SimNames from "./SimNames.ts"
import * as SimScsi from "./SimScsi.ts"
import type { SimHbaSpec, SimNetwork, SimNetworkState } from "./SimSpec.ts"
import type { SimState } from "./SimState.ts"
import * as SimStorage from "./SimStorage.ts"

const up: SimNet = { state: "up", p: 0, latencyMs: 0, fast: false }
const refusing: SimNet = { state: "refusing", p: 0, latencyMs: 0, fast: false }

/** Normalises a network setting. */
export const toNet = (n: SimNetworkState | SimNetwork): SimNet =>
  typeof n === "string"
    ? { state: n, p: 0.5, latencyMs: 0, fast: false }
    : { state: n.state, p: n.p ?? 0.5, latencyMs: n.latencyMs ?? 0, fast: n.fast ?? false }

/** Whether a transport name is an offload (HBA) one. */
export const isOffload = (transport: string): boolean => isOffloadDriver(transport)

/** The network a portal is behind: explicit, else up when a target serves it, else refusing. */
export const net = (st: SimState, portal: string): SimNet =>
  st.network.get(portal) ?? (SimStorage.targetsAt(st, portal).length > 0 ? up : refusing)

/** Changes a portal's network; sessions through it fail (or recover) at once. */
export const setNetwork = (st: SimState, portal: string, network: SimNet): void => {
  st.network.set(portal, network)
  const broken = network.state === "refusing" || network.state === "blackholed"
  // a failed session reconnects only where something listens
  const reachable = !broken && network.state !== "listenerGone"
  for (const s of st.sessions.values()) {
    if (s.portal !== portal) continue
    if (broken && s.state === "LOGGED_IN") {
      s.state = "FAILED"
      s.failedAt = st.schedule.now
    } else if (reachable && s.state === "FAILED") {
      s.state = "LOGGED_IN"
    }
  }
}

/** An offload HBA as the spec describes it (no SCSI host until its driver is loaded). */
export const hbaOf = (h: SimHbaSpec): SimHba => ({
  transport: h.transport,
  hwaddress: h.hwaddress.toLowerCase(),
  pciAddress: h.pciAddress,
  bridge: h.bridge ?? "0000:00:1c.0",
  ipaddress: h.ipaddress ?? "0.0.0.0",
  netdev: h.netdev,
  host: undefined,
  nextTargetId: 0
})

/** Gives each HBA whose driver is loaded a SCSI host (and drops those whose driver is not). */
export const probeHbas = (st: SimState): void => {
  for (const hba of st.hbas) {
    const loaded = st.transports.has(hba.transport)
    if (loaded && !hba.host) {
      const no = st.hostNumbers.alloc()
      hba.host = {
        no,
        kind: "offload",
        transport: hba.transport,
        sessions: new Map(),
        hba,
        ipaddress: hba.ipaddress,
        hwaddress: hba.hwaddress,
        netdev: hba.netdev ?? "(null)",
        initiatorName: st.initiatorName
      }
      st.hosts.set(no, hba.host)
    } else if (!loaded && hba.host) {
      if (hba.host.sessions.size > 0) throw new Error(`sim: ${hba.transport} is in use`)
      st.hosts.delete(hba.host.no)
      st.hostNumbers.release(hba.host.no)
      hba.host = undefined
    }
  }
}

/** The HBA an offload iface is bound to (by hwaddress, else netdev), when it exists and its driver is loaded. */
export const hbaFor = (st: SimState, iface: SimIface): SimHba | undefined => {
  const hw = iface.hwaddress?.toLowerCase()
  return st.hbas.find((h) =>
    h.host !== undefined && h.transport === iface.transport &&
    (hw !== undefined ? h.hwaddress === hw : iface.netIfacename !== undefined && h.netdev === iface.netIfacename)
  )
}

/** A software transport's SCSI host for a new session through `iface` to `portal`. */
const softwareHost = (st: SimState, iface: SimIface, portal: string): SimScsiHost => {
  const no = st.hostNumbers.alloc()
  const host: SimScsiHost = {
    no,
    kind: "software",
    transport: iface.transport,
    sessions: new Map(),
    hba: undefined,
    ipaddress: SimNames.portalAddress(portal).ipv6 ? st.localAddress.ipv6 : st.localAddress.ipv4,
    hwaddress: iface.hwaddress ?? "(null)",
    netdev: iface.netIfacename ?? "(null)",
    initiatorName: iface.initiatorName ?? "(null)"
  }
  st.hosts.set(no, host)
  return host
}

/** Creates the session of a successful login. */
export const createSession = (st: SimState, node: SimNode, iface: SimIface, tpgt: number): SimSession => {
  const hba = isOffload(iface.transport) ? hbaFor(st, iface) : undefined
  const host = hba?.host ?? softwareHost(st, iface, node.portal)
  const targetId = hba?.host ? hba.nextTargetId++ : 0
  const auth = node.settings.auth
  const session: SimSession = {
    sid: st.nextSid++,
    key: node.key,
    host,
    targetId,
    iface: iface.name,
    portal: node.portal,
    iqn: node.iqn,
    tpgt,
    state: "LOGGED_IN",
    failedAt: 0,
    recoveryTmo: st.nodeDefaults.recoveryTmo,
    initiatorName: iface.initiatorName ?? st.initiatorName,
    username: auth?.username,
    password: auth ? Redacted.value(auth.password) : undefined,
    usernameIn: auth ? Option.getOrUndefined(auth.usernameIn) : undefined,
    passwordIn: auth ? Option.match(auth.passwordIn, { onNone: () => undefined, onSome: Redacted.value }) : undefined,
    scanned: false,
    devices: new Map()
  }
  host.sessions.set(session.sid, session)
  st.sessions.set(session.sid, session)
  st.sessionByNode.set(node.key, session)
  return session
}

/** Logs a session out: its SCSI devices and links go, a software host goes with it. */
export const destroySession = (st: SimState, session: SimSession): void => {
  for (const dev of Array.from(session.devices.values())) SimScsi.removeDevice(st, dev)
  session.host.sessions.delete(session.sid)
  st.sessions.delete(session.sid)
  st.sessionByNode.delete(session.key)
  if (session.host.kind === "software") {
    st.hosts.delete(session.host.no)
    st.hostNumbers.release(session.host.no)
  }
}
