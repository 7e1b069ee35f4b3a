/**
 * A read-write attach (`access_mode` rw) returns a writable device: the
 * device it returns and the paths under it must be writable, else the
 * connect fails with ReadOnly and is undone like any failed one.
 */
import { Effect, Option } from "effect"
import { ConnectError, connectHostError, type PathFailure } from "../../BrickError.ts"
import type { ConnectorOptions } from "../../iscsi/ConnectorOptions.ts"
import type { DeviceInfo } from "../../iscsi/DeviceInfo.ts"
import type * as MultipathAssembly from "../multipath/MultipathAssembly.ts"
import * as WritableDevice from "../scsi/WritableDevice.ts"
import type { AttachedPath } from "./PathAttach.ts"

/**
 * Waits (bounded by `writableWaitTimeout`) until the returned device and its
 * paths are writable; fails with ReadOnly otherwise.
 */
export const requireWritable = (
  device: DeviceInfo,
  assembly: MultipathAssembly.Assembly<AttachedPath, PathFailure>,
  options: ConnectorOptions
) =>
  Effect.gen(function*() {
    const served: WritableDevice.Served = {
      map: Option.map(assembly.map, (m) => m.dm),
      paths: (Option.isSome(assembly.map) ? assembly.ok : assembly.ok.slice(0, 1)).map((p) => ({
        block: p.block,
        hctl: p.hctl
      }))
    }
    const still = yield* WritableDevice.waitForWritable(served, {
      timeoutMs: options.writableWaitTimeout * 1000,
      firstGapMs: 1000
    }).pipe(Effect.mapError(connectHostError("reading whether the device is read-only")))
    if (Option.isSome(still)) {
      return yield* Effect.fail(
        new ConnectError({ reason: { _tag: "ReadOnly", device: device.path, ...still.value } })
      )
    }
  })
