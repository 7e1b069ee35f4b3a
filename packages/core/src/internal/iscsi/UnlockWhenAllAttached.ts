/**
 * A connect lets its target locks go once every path has its device: no
 * session decision is left, and the volume's devices keep its sessions from
 * being logged out by another volume's disconnect. The node records no path
 * uses are dropped first, under the locks. A failed path keeps the locks to
 * the end of the connect.
 */
import { Effect, Ref } from "effect"
import type { Ledger } from "../Ledger.ts"
import type * as IscsiUndo from "./IscsiUndo.ts"
import * as NodeRecords from "./NodeRecords.ts"
import { type AttachedPath, nodeKeyOf } from "./PathAttach.ts"
import type * as TargetLock from "./TargetLock.ts"

/**
 * The paths' attaches, watched: when the last of them has its device (every
 * one succeeded), the node records no path uses are dropped and the target
 * locks let go.
 */
export const unlockWhenAllAttached = <E, R>(
  attaches: ReadonlyArray<Effect.Effect<AttachedPath, E, R>>,
  ledger: Ledger<IscsiUndo.Entry>,
  locks: TargetLock.Held
) =>
  Effect.map(
    Ref.make<ReadonlyArray<AttachedPath>>([]),
    (arrived) =>
      attaches.map((attach) =>
        Effect.tap(attach, (path) =>
          Effect.gen(function*() {
            const all = yield* Ref.updateAndGet(arrived, (ps) => [...ps, path])
            if (all.length < attaches.length) return
            yield* NodeRecords.dropUnused(ledger, new Set(all.map(nodeKeyOf)))
            yield* locks.release
            yield* Effect.logDebug("every path has its device: target locks released")
          }))
      )
  )
