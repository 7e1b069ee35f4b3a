/**
 * The life of an iface record brick made: it goes when nothing uses it any
 * more, that is when no session logs in through it
 * (/sys/class/iscsi_session/sessionN/ifacename) and no node record names it
 * (a record bound to a deleted iface could not log in again).
 */
import { Effect } from "effect"
import type { IfaceName } from "../../iscsi/IfaceName.ts"
import { Iscsiadm, type IscsiadmError } from "../../iscsi/Iscsiadm.ts"
import { Sysfs, type SysfsError } from "../../Sysfs.ts"
import * as IscsiLayout from "./IscsiLayout.ts"
import * as Sessions from "./Sessions.ts"

/** Whether a session or a node record uses iface `name`. */
export const inUse = (name: IfaceName): Effect.Effect<boolean, IscsiadmError | SysfsError, Iscsiadm | Sysfs> =>
  Effect.gen(function*() {
    const nodes = yield* Iscsiadm.use((i) => i.listNodes)
    if (nodes.some((n) => n.iface === name)) return true
    for (const sid of yield* Sessions.sessionIds) {
      const ifacename = yield* Sysfs.use((s) => s.read(IscsiLayout.sessionFile(sid, "ifacename")))
      if (Sessions.ifaceOfSession(ifacename) === name) return true
    }
    return false
  })

/** Deletes iface `name` unless it is in use (one already gone counts as deleted); whether it was deleted. */
export const removeIfUnused = (
  name: IfaceName
): Effect.Effect<boolean, IscsiadmError | SysfsError, Iscsiadm | Sysfs> =>
  Effect.gen(function*() {
    if (yield* inUse(name)) return false
    yield* Iscsiadm.use((i) => i.deleteIface(name)).pipe(
      Effect.catch((e) => (e.reason._tag === "NotFound" ? Effect.void : Effect.fail(e)))
    )
    return true
  })
