/**
 * BlockDevice on a simulated host: sizes of disks and dm maps, and buffer
 * flushes that fail when I/O cannot complete or a flush fault is set.
 */
import { BlockDevice } from "@brick/core"
import { type Context, Effect, Layer } from "effect"
import type { SimMap, SimScsiDevice } from "./SimModel.ts"
import * as SimMultipathd from "./SimMultipathd.ts"
import { run, type SimRuntime } from "./SimOps.ts"
import * as SimScsi from "./SimScsi.ts"
import { resolve } from "./SimTree.ts"

type Reason = BlockDevice.BlockDeviceError["reason"]

/** The BlockDevice service of `rt`'s host, as seen by `process`. */
export const make = (rt: SimRuntime, process = "main"): Context.Service.Shape<typeof BlockDevice.BlockDevice> => {
  const st = rt.state
  const error = (operation: "flush" | "size", device: string, reason: Reason) =>
    new BlockDevice.BlockDeviceError({ operation, device, reason })
  const toError =
    (operation: "flush" | "size", device: string) => (f: { readonly reason: string; readonly detail?: string }) =>
      error(
        operation,
        device,
        f.reason === "NotFound" || f.reason === "Busy"
          ? { _tag: f.reason }
          : { _tag: "Failed", detail: f.detail ?? f.reason }
      )
  /** The disk or map a /dev path resolves to now. */
  const lookup = (path: string): SimScsiDevice | SimMap | undefined => {
    const r = resolve(rt.view, path, true)
    const m = r && /^\/dev\/(.+)$/.exec(r.path)
    if (!m) return undefined
    return m[1]!.startsWith("dm-") ? SimMultipathd.mapNamed(st, m[1]!) : st.disks.get(m[1]!)
  }
  const running = (d: SimScsiDevice) => SimScsi.deviceState(st, d) === "running"

  return {
    flush: (device) =>
      run(rt, process, "blockDevice.flush", [device], toError("flush", device), () => {
        const target = lookup(device)
        if (!target) return Effect.fail(error("flush", device, { _tag: "NotFound" }))
        const name = "minor" in target ? `dm-${target.minor}` : target.name
        const fault = st.flushFaults.get(name) ?? st.flushFaults.get("*")
        if (fault === "busy") return Effect.fail(error("flush", device, { _tag: "Busy" }))
        if (fault === "fail") {
          return Effect.fail(error("flush", device, { _tag: "Failed", detail: "Input/output error (injected)" }))
        }
        const ok = "minor" in target ? Array.from(target.paths).some(running) : running(target)
        return ok ? Effect.void : Effect.fail(error("flush", device, { _tag: "Failed", detail: "Input/output error" }))
      }),
    size: (device) =>
      run(rt, process, "blockDevice.size", [device], toError("size", device), () => {
        const target = lookup(device)
        return target ? Effect.succeed(target.sizeBytes) : Effect.fail(error("size", device, { _tag: "NotFound" }))
      })
  }
}

/** A layer of the BlockDevice service on `rt`'s host. */
export const layer = (rt: SimRuntime, process = "main"): Layer.Layer<BlockDevice.BlockDevice> =>
  Layer.succeed(BlockDevice.BlockDevice, make(rt, process))
