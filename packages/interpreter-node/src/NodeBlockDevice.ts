/**
 * The BlockDevice service on a real host. `size` spawns nothing: it follows
 * the device path's links under the root to the kernel name and reads
 * /sys/class/block/<name>/size (always 512-byte sectors). `flush` without a
 * command prefix spawns nothing either: it opens the device read-only and
 * fsyncs it (the kernel writes the device's dirty pages and sends it a cache
 * flush, what `blockdev --flushbufs` does before dropping clean buffers,
 * without a spawn: BENCHMARKS.md, "Interpreter choices"), bounded by
 * `commandTimeout`; with a prefix it runs `blockdev --flushbufs <device>`
 * with the device path as commands see it.
 */
import { BlockDevice, type DevicePath } from "@brick/core"
import { Effect, Layer } from "effect"
import * as NodeFs from "node:fs/promises"
import * as NodePath from "node:path"
import { CommandRunner } from "./CommandRunner.ts"
import { NodeHostConfig } from "./NodeHostConfig.ts"
import * as RootPath from "./RootPath.ts"

type Reason = BlockDevice.BlockDeviceError["reason"]

/** The reason blockdev's complaint stands for. */
export const reasonOf = (text: string): Reason => {
  if (/no such file|no such device|not found/i.test(text)) return { _tag: "NotFound" }
  if (/busy/i.test(text)) return { _tag: "Busy" }
  return { _tag: "Failed", detail: text.trim() || "blockdev failed" }
}

/** Builds the service. */
export const make = Effect.gen(function*() {
  const runner = yield* CommandRunner
  const config = yield* NodeHostConfig
  const fail = (operation: "flush" | "size", device: string, reason: Reason) =>
    new BlockDevice.BlockDeviceError({ operation, device, reason })

  const size = (device: DevicePath.DevicePath) =>
    Effect.tryPromise({
      try: async () => {
        const real = await NodeFs.realpath(RootPath.resolve(config.root, device))
        const name = NodePath.basename(real)
        const text = await NodeFs.readFile(RootPath.resolve(config.root, `/sys/class/block/${name}/size`), "utf8")
        const sectors = Number(text.trim())
        if (!Number.isSafeInteger(sectors)) throw Object.assign(new Error("bad size"), { code: "EBADSIZE" })
        return sectors * 512
      },
      catch: (e) => {
        const code = (e as NodeJS.ErrnoException).code
        return fail(
          "size",
          device,
          code === "ENOENT" || code === "ENOTDIR" ? { _tag: "NotFound" } : {
            _tag: "Failed",
            detail: code ?? String(e)
          }
        )
      }
    }).pipe(Effect.withSpan("BlockDevice.size", { attributes: { device } }))

  const fsync = (device: DevicePath.DevicePath) =>
    Effect.tryPromise({
      try: async () => {
        const handle = await NodeFs.open(RootPath.resolve(config.root, device), "r")
        try {
          await handle.sync()
        } finally {
          await handle.close()
        }
      },
      catch: (e) => {
        const code = (e as NodeJS.ErrnoException).code
        return fail(
          "flush",
          device,
          code === "ENOENT" || code === "ENXIO" || code === "ENODEV" || code === "ENOTDIR"
            ? { _tag: "NotFound" }
            : code === "EBUSY"
            ? { _tag: "Busy" }
            : { _tag: "Failed", detail: code ?? String(e) }
        )
      }
    }).pipe(
      Effect.timeoutOrElse({
        duration: config.commandTimeout,
        orElse: () => Effect.fail(fail("flush", device, { _tag: "Failed", detail: "fsync timed out" }))
      }),
      Effect.withSpan("BlockDevice.flush", { attributes: { device } })
    )

  const flush = (device: DevicePath.DevicePath) =>
    config.commandPrefix.length === 0 && config.blockdevPath === "blockdev" ?
      fsync(device) :
      runner.run("blockdev", ["--flushbufs", RootPath.resolve(config.commandRoot, device)]).pipe(
        Effect.mapError((e) => fail("flush", device, { _tag: "Failed", detail: e.message })),
        Effect.flatMap((r) =>
          r.exitCode === 0 ? Effect.void : Effect.fail(fail("flush", device, reasonOf(r.stderr || r.stdout)))
        ),
        Effect.withSpan("BlockDevice.flush", { attributes: { device } })
      )

  return BlockDevice.BlockDevice.of({ flush, size })
})

/** BlockDevice on the real host. */
export const layer: Layer.Layer<BlockDevice.BlockDevice, never, CommandRunner | NodeHostConfig> = Layer.effect(
  BlockDevice.BlockDevice,
  make
)
