/**
 * How to read sysfs cheaply: `npx vitest bench --run packages/interpreter-node/test/NodeSysfs.bench.ts`.
 * Compares NodeSysfs (synchronous reads) with node:fs/promises, effect's
 * FileSystem and a bare readFileSync, on a small fake sysfs tree.
 */
import { HostPath } from "@brick/core"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, FileSystem } from "effect"
import * as NodeFs from "node:fs"
import * as NodePath from "node:path"
import { afterAll, bench, describe } from "vitest"
import { makeWithRoot } from "../src/NodeSysfs.ts"
import { cleanup, tempDir } from "./support.ts"

const root = tempDir("brick-sysfs-bench-")
const rel = "sys/class/iscsi_session/session1"
NodeFs.mkdirSync(NodePath.join(root, rel), { recursive: true })
NodeFs.writeFileSync(NodePath.join(root, rel, "targetname"), "iqn.2010-10.org.openstack:volume-1\n")
const file = NodePath.join(root, rel, "targetname")
const sysfs = makeWithRoot(root)
const path = HostPath.make(`/${rel}/targetname`)
const viaEffectFs = Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
  Effect.provide(NodeFileSystem.layer)
)
afterAll(() => cleanup(root))

describe("read one sysfs attribute", () => {
  bench("NodeSysfs (sync reads)", async () => {
    await Effect.runPromise(sysfs.read(path))
  })
  bench("effect FileSystem", async () => {
    await Effect.runPromise(viaEffectFs)
  })
  bench("fs/promises in Effect.tryPromise", async () => {
    await Effect.runPromise(Effect.tryPromise(() => NodeFs.promises.readFile(file, "utf8")))
  })
  bench("readFileSync in Effect.try", async () => {
    await Effect.runPromise(Effect.try(() => NodeFs.readFileSync(file, "utf8")))
  })
})
