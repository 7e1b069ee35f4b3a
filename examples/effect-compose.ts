/**
 * Composing brick's programs with your own Effect code: attach a volume,
 * do your work on the device, and detach it whatever happens — with tracing
 * spans around every step and a logger of your own.
 *
 * On the simulated host (the default) the work is a size check through the
 * BlockDevice service; with `--node INFO.json` (as root, on a host with
 * iscsiadm) it writes a block to the real device and reads it back.
 *
 *     node examples/dist/effect-compose.js
 *     node examples/dist/effect-compose.js --node volume.json
 */
import {
  BlockDevice,
  type BrickError,
  ConnectVolume,
  type DeviceInfo,
  DisconnectVolume,
  type InvalidInput,
  type IscsiServices
} from "@brick/core"
import { NodeHost } from "@brick/interpreter-node"
import { SimHost } from "@brick/interpreter-sim"
import { Data, Effect, Logger, Option, Tracer } from "effect"
import * as fs from "node:fs/promises"
import { pathToFileURL } from "node:url"

/** The services brick's programs run on (any interpreter's). */
export type HostServices = IscsiServices

/** The device's size is not what the volume should have. */
export class SizeMismatch extends Data.TaggedError("SizeMismatch")<{
  readonly device: string
  readonly expected: number
  readonly actual: number
}> {}

/** The block read back is not the block written. */
export class ReadBackMismatch extends Data.TaggedError("ReadBackMismatch")<{ readonly device: string }> {}

/** An I/O error of our own work on the device. */
export class DeviceIoError
  extends Data.TaggedError("DeviceIoError")<{ readonly device: string; readonly detail: string }>
{}

/**
 * Runs `use` on an attached volume: connectVolume, then `use`, then
 * disconnectVolume — the detach runs even when `use` fails or is interrupted.
 */
export const withVolume = <A, E, R>(
  info: unknown,
  options: unknown,
  use: (device: DeviceInfo.DeviceInfo) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | InvalidInput.InvalidInput | BrickError.ConnectError, R | HostServices> =>
  Effect.acquireUseRelease(
    ConnectVolume.connectVolume(info, options),
    (device) => use(device).pipe(Effect.withSpan("example.use", { attributes: { device: device.path } })),
    (device) =>
      DisconnectVolume.disconnectVolume(info, device, {}, options).pipe(
        Effect.catch((e) => Effect.logError(`detach failed: ${e.message}`))
      )
  ).pipe(Effect.withSpan("example.withVolume"))

/** Our work on the simulated host: the device has the volume's size. */
export const checkSize = (expected: number) => (device: DeviceInfo.DeviceInfo) =>
  Effect.gen(function*() {
    const actual = yield* BlockDevice.BlockDevice.use((b) => b.size(device.path))
    yield* Effect.logInfo(`${device.path} has ${actual} bytes`)
    if (actual !== expected) return yield* new SizeMismatch({ device: device.path, expected, actual })
    return actual
  }).pipe(Effect.withSpan("example.checkSize"))

/** Our work on a real host: write a 4 KiB block at offset 0 and read it back. */
export const writeReadBack = (device: DeviceInfo.DeviceInfo) =>
  Effect.gen(function*() {
    const block = Buffer.alloc(4096, `brick ${device.scsi_wwn} `)
    const io = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({
        try: f,
        catch: (e) => new DeviceIoError({ device: device.path, detail: `${what}: ${String(e)}` })
      })
    const handle = yield* Effect.acquireRelease(io("open", () => fs.open(device.path, "r+")), (h) =>
      Effect.promise(() => h.close()))
    yield* io("write", () =>
      handle.write(block, 0, block.length, 0)).pipe(Effect.withSpan("example.write"))
    yield* io("sync", () => handle.sync())
    const back = Buffer.alloc(block.length)
    yield* io("read", () => handle.read(back, 0, back.length, 0)).pipe(Effect.withSpan("example.read"))
    if (!back.equals(block)) return yield* new ReadBackMismatch({ device: device.path })
    yield* Effect.logInfo(`wrote and read back ${block.length} bytes on ${device.path}`)
    return block.length
  }).pipe(Effect.scoped, Effect.withSpan("example.writeReadBack"))

/** A tracer that keeps every span, to print them as a tree. */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const tree = (): ReadonlyArray<string> => {
    const lines: Array<string> = []
    const visit = (span: Tracer.NativeSpan, depth: number) => {
      const ms = span.status._tag === "Ended" ? Number(span.status.endTime - span.status.startTime) / 1e6 : NaN
      const outcome = span.status._tag === "Ended" && span.status.exit._tag === "Failure" ? " (failed)" : ""
      lines.push(`${"  ".repeat(depth)}${span.name} ${ms.toFixed(1)} ms${outcome}`)
      for (const child of spans) {
        if (Option.isSome(child.parent) && child.parent.value.spanId === span.spanId) visit(child, depth + 1)
      }
    }
    for (const span of spans) if (Option.isNone(span.parent)) visit(span, 0)
    return lines
  }
  return { tracer, spans, tree }
}

/** A logger of our own: `level [span] message`, into `lines`. */
export const lineLogger = (lines: Array<string>) =>
  Logger.make((o) => {
    const text = Array.isArray(o.message) ? o.message.join(" ") : String(o.message)
    lines.push(`${o.logLevel.toUpperCase().padEnd(5)} ${text}`)
  })

const simIqn = "iqn.2010-10.org.openstack:volume-compose"

/** The walk-through on the simulated host; resolves to what it printed and the spans. */
export const runOnSim = async () => {
  const size = 5 * 1024 ** 3
  const sim = SimHost.make({
    targets: [{ iqn: simIqn, portals: ["10.99.0.1:3260", "10.99.0.2:3260"], luns: [{ lun: 3, sizeBytes: size }] }],
    multipathd: { running: true }
  }, { seed: 11 })
  const info = {
    target_portals: ["10.99.0.1:3260", "10.99.0.2:3260"],
    target_iqn: simIqn,
    target_lun: 3,
    volume_id: "compose-1"
  }
  const logs: Array<string> = []
  const { spans, tracer, tree } = recordingTracer()
  const bytes = await Effect.runPromise(
    withVolume(info, { useMultipath: true }, checkSize(size)).pipe(
      Effect.withSpan("example.attachCheckDetach"),
      Effect.provide(sim.layer),
      Effect.provide(Logger.layer([lineLogger(logs)])),
      Effect.provideService(Tracer.Tracer, tracer)
    )
  )
  return { bytes, logs, spans: spans.map((s) => s.name), tree: tree(), sessionsLeft: sim.snapshot().sessions.length }
}

/** The same composition on the real host: attach, write/read a block, detach. */
export const runOnNode = async (infoPath: string) => {
  const info = JSON.parse(await fs.readFile(infoPath, "utf8")) as unknown
  const logs: Array<string> = []
  const { tracer, tree } = recordingTracer()
  const host = NodeHost.layerWithServices()
  const bytes = await Effect.runPromise(
    withVolume(info, {}, writeReadBack).pipe(
      Effect.withSpan("example.attachWriteReadDetach"),
      Effect.provide(host),
      Effect.provide(Logger.layer([lineLogger(logs)])),
      Effect.provideService(Tracer.Tracer, tracer)
    )
  )
  return { bytes, logs, tree: tree() }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nodeAt = process.argv.indexOf("--node")
  const go = nodeAt >= 0 ? runOnNode(process.argv[nodeAt + 1] ?? "volume.json") : runOnSim()
  go.then(
    (r) => {
      console.log("log:")
      for (const l of r.logs) console.log(`  ${l}`)
      console.log("spans:")
      for (const l of r.tree) console.log(`  ${l}`)
      console.log(`result: ${r.bytes} bytes`)
    },
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e)
      process.exitCode = 1
    }
  )
}
