/**
 * A project that installed brick's packed packages: attaches and detaches a volume on the
 * simulated host and prints what it saw as one JSON line (scripts/test/Pack.test.ts checks it).
 */
import { connectVolume, type DeviceInfo, disconnectVolume } from "@brick/core"
import { Connector } from "@brick/interpreter-node"
import { SimHost, SimSnapshot } from "@brick/interpreter-sim"
import { Effect } from "effect"

const iqn = "iqn.2010-10.org.openstack:volume-packed"
const info = { driver_volume_type: "iscsi", data: { target_portal: "10.99.0.1:3260", target_iqn: iqn, target_lun: 1 } }

const host = SimHost.make({ targets: [{ iqn, portals: ["10.99.0.1:3260"], luns: [{ lun: 1 }] }], latency: "zero" }, {
  seed: 7
})
const before = host.snapshot()
const device: DeviceInfo.DeviceInfo = await Effect.runPromise(connectVolume(info).pipe(Effect.provide(host.layer)))
const attached = host.snapshot()
await Effect.runPromise(disconnectVolume(info, device).pipe(Effect.provide(host.layer)))
const clean = SimSnapshot.isEmpty(SimSnapshot.diff(before, host.snapshot()))

/** The declarations carry the programs' requirements: running one without a host does not type-check. */
export const withoutHost = () =>
  // @ts-expect-error connectVolume needs Iscsiadm | Sysfs | Multipath | BlockDevice | Lock
  Effect.runPromise(connectVolume(info))

/** The Promise API's types resolve from the packed declarations too. */
export const promiseApi: (config?: Connector.CreateConnectorOptions) => Connector.Connector = Connector.createConnector

console.log(JSON.stringify({ device, sessions: attached.sessions.map((s) => s.portal), clean }))
