import { BlockDevice, DevicePath } from "@brick/core"
import { Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { NodeHost } from "../src/index.ts"

const flushUnder = (root: string, device: string) =>
  Effect.runPromise(
    Effect.flip(BlockDevice.BlockDevice.use((b) => b.flush(DevicePath.unsafeMake(device)))).pipe(
      Effect.map((e) => e.reason._tag),
      Effect.catch(() => Effect.succeed("ok")),
      Effect.provide(
        NodeHost.layerWithServices({ root, blockdevPath: "blockdev" }) as Layer.Layer<BlockDevice.BlockDevice>
      )
    )
  )

describe("NodeBlockDevice flush without a command prefix", () => {
  it("fsyncs the device in-process (no blockdev spawned), NotFound when it is gone", async () => {
    const root = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "brick-fsync-"))
    NodeFs.mkdirSync(NodePath.join(root, "dev"))
    NodeFs.writeFileSync(NodePath.join(root, "dev/sdq"), "data")
    expect(await flushUnder(root, "/dev/sdq")).toBe("ok")
    expect(await flushUnder(root, "/dev/sdz")).toBe("NotFound")
    NodeFs.rmSync(root, { recursive: true })
  })
})
