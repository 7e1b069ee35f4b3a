import { BlockDevice, DevicePath } from "@brick/core"
import { Effect } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { CommandRunner } from "../src/CommandRunner.ts"
import { calls, cleanup, failureWith, fakeTool, runWith, tempDir } from "./support.ts"

let dir: string
let root: string
beforeEach(() => {
  dir = tempDir()
  root = NodePath.join(dir, "root")
  const mk = (rel: string) => NodeFs.mkdirSync(NodePath.join(root, rel), { recursive: true })
  mk("sys/class/block/sdb")
  mk("sys/class/block/dm-0")
  NodeFs.writeFileSync(NodePath.join(root, "sys/class/block/sdb/size"), "2097152\n")
  NodeFs.writeFileSync(NodePath.join(root, "sys/class/block/dm-0/size"), "4194304\n")
  mk("dev/disk/by-path")
  mk("dev/mapper")
  NodeFs.writeFileSync(NodePath.join(root, "dev/sdb"), "")
  NodeFs.writeFileSync(NodePath.join(root, "dev/dm-0"), "")
  NodeFs.symlinkSync(
    "../../sdb",
    NodePath.join(root, "dev/disk/by-path/ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:v-lun-1")
  )
  NodeFs.symlinkSync("../dm-0", NodePath.join(root, "dev/mapper/36001405abc"))
})
afterEach(() => cleanup(dir))

const use = <A, E>(f: (b: BlockDevice.BlockDevice["Service"]) => Effect.Effect<A, E>) => BlockDevice.BlockDevice.use(f)
const d = DevicePath.unsafeMake

describe("NodeBlockDevice", () => {
  it("reads sizes from sysfs under the root, following by-path and mapper links, spawning nothing", async () => {
    const [sizes, counts] = await runWith(
      { root },
      Effect.gen(function*() {
        const b = yield* BlockDevice.BlockDevice
        const sizes = [
          yield* b.size(d("/dev/sdb")),
          yield* b.size(d("/dev/disk/by-path/ip-10.0.0.1:3260-iscsi-iqn.2010-10.org.openstack:v-lun-1")),
          yield* b.size(d("/dev/mapper/36001405abc"))
        ]
        return [sizes, yield* CommandRunner.use((r) => r.spawnCounts)] as const
      })
    )
    expect(sizes).toEqual([2097152 * 512, 2097152 * 512, 4194304 * 512])
    expect(counts).toEqual({})
  })

  it("a missing device is NotFound", async () => {
    const e = await failureWith({ root }, use((b) => b.size(d("/dev/sdz"))))
    expect(e.reason._tag).toBe("NotFound")
  })

  it("flushes with `blockdev --flushbufs`, the device path under the command root", async () => {
    const blockdev = fakeTool(dir, "blockdev", "exit 0")
    await runWith({ root, blockdevPath: blockdev }, use((b) => b.flush(d("/dev/sdb"))))
    expect(calls(dir, "blockdev")).toEqual([["--flushbufs", NodePath.join(root, "dev/sdb")]])
  })

  it("with a command prefix, commands see the host's own paths", async () => {
    const blockdev = fakeTool(dir, "blockdev", "exit 0")
    const prefix = fakeTool(dir, "prefix", `exec "$@"`)
    await runWith({ root, blockdevPath: blockdev, commandPrefix: [prefix] }, use((b) => b.flush(d("/dev/sdb"))))
    expect(calls(dir, "blockdev")).toEqual([["--flushbufs", "/dev/sdb"]])
  })

  it("maps blockdev's complaints", async () => {
    const busy = fakeTool(dir, "busy", `echo "blockdev: cannot open /dev/sdb: Device or resource busy" >&2; exit 1`)
    expect((await failureWith({ blockdevPath: busy }, use((b) => b.flush(d("/dev/sdb"))))).reason._tag).toBe("Busy")
    const gone = fakeTool(dir, "gone", `echo "blockdev: cannot open /dev/sdb: No such file or directory" >&2; exit 1`)
    expect((await failureWith({ blockdevPath: gone }, use((b) => b.flush(d("/dev/sdb"))))).reason._tag).toBe("NotFound")
    const other = fakeTool(dir, "other", `echo "blockdev: ioctl error" >&2; exit 1`)
    expect((await failureWith({ blockdevPath: other }, use((b) => b.flush(d("/dev/sdb"))))).reason).toEqual({
      _tag: "Failed",
      detail: "blockdev: ioctl error"
    })
  })
})
