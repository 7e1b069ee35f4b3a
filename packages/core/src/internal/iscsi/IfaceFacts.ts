/**
 * The facts about ifaces and HBAs a connect's plan needs, read off the host:
 * iface records (`iscsiadm -m iface`) and the iSCSI HBAs' hardware addresses
 * (/sys/class/iscsi_host/hostH/hwaddress).
 */
import { Effect, Option } from "effect"
import { connectHostError } from "../../BrickError.ts"
import type { ConnectorOptions } from "../../iscsi/ConnectorOptions.ts"
import type { IfaceFacts } from "../../iscsi/IfaceChoice.ts"
import { defaultIface } from "../../iscsi/IfaceName.ts"
import { Iscsiadm } from "../../iscsi/Iscsiadm.ts"
import { isOffload, isTransport } from "../../iscsi/Transport.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import * as IscsiLayout from "./IscsiLayout.ts"

/** The hardware addresses of the host's iSCSI HBAs (software hosts have none). */
export const hbaHwaddresses: Effect.Effect<ReadonlyArray<string>, SysfsError, Sysfs> = Effect.gen(function*() {
  const sysfs = yield* Sysfs
  const hosts = yield* sysfs.list(IscsiLayout.iscsiHostsDir)
  const addresses = yield* Effect.forEach(hosts, (h) => {
    const m = /^host(\d+)$/.exec(h)
    return m ? sysfs.read(IscsiLayout.iscsiHostFile(Number(m[1]), "hwaddress")) : Effect.succeed(Option.none())
  })
  return addresses.flatMap((a) =>
    Option.isSome(a) && /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/.test(a.value.trim()) ? [a.value.trim()] : []
  )
})

/**
 * The iface facts the plan needs: nothing for `default`; the iface records
 * when another iface is asked for; the HBAs' hardware addresses only when an
 * offload transport is involved.
 */
export const read = (options: ConnectorOptions) =>
  Effect.gen(function*() {
    const requested = options.iface
    if (requested === undefined || requested === defaultIface) return { ifaces: [], hbaHwaddresses: [] } as IfaceFacts
    const ifaces = yield* Iscsiadm.use((i) => i.listIfaces).pipe(Effect.mapError(connectHostError("listing ifaces")))
    const offload = typeof requested === "string"
      ? ifaces.some((r) => r.name === requested && isTransport(r.transport) && isOffload(r.transport))
      : isOffload(requested.transport)
    const hba = offload ? yield* Effect.mapError(hbaHwaddresses, connectHostError("reading HBAs")) : []
    return { ifaces, hbaHwaddresses: hba } satisfies IfaceFacts
  }).pipe(Effect.withSpan("brick.ifaceFacts"))
