/** Helpers for interpreter-node tests: temp dirs, fake tools, running effects with the node layers. */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Layer } from "effect"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import * as NodeHost from "../src/NodeHost.ts"
import type { NodeHostConfigInput } from "../src/NodeHostConfig.ts"

/** A fresh temporary directory (removed by `cleanup`). */
export const tempDir = (prefix = "brick-node-"): string => NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), prefix))

export const cleanup = (dir: string) => NodeFs.rmSync(dir, { recursive: true, force: true })

/**
 * Writes an executable /bin/sh script `name` into `dir` that appends its argv
 * (one word a line, then `--END--`) to `<dir>/<name>.calls` and runs `body`.
 */
export const fakeTool = (dir: string, name: string, body: string): string => {
  const path = NodePath.join(dir, name)
  const log = NodePath.join(dir, `${name}.calls`)
  NodeFs.writeFileSync(
    path,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a" >> '${log}'; done\nprintf -- '--END--\\n' >> '${log}'\n${body}\n`,
    { mode: 0o755 }
  )
  return path
}

/** The argv of every call a fake tool received. */
export const calls = (dir: string, name: string): ReadonlyArray<ReadonlyArray<string>> => {
  const log = NodePath.join(dir, `${name}.calls`)
  if (!NodeFs.existsSync(log)) return []
  const out: Array<Array<string>> = []
  let current: Array<string> = []
  for (const line of NodeFs.readFileSync(log, "utf8").split("\n")) {
    if (line === "--END--") {
      out.push(current)
      current = []
    } else if (line !== "" || current.length > 0) current.push(line)
  }
  return out
}

/** The node host layer with real child processes. */
export const hostLayer = (config: NodeHostConfigInput) => NodeHost.layer(config).pipe(Layer.provide(NodeServices.layer))

/** Runs `effect` with the node host layer configured by `config`. */
export const runWith = <A, E>(
  config: NodeHostConfigInput,
  effect: Effect.Effect<A, E, NodeHost.NodeHostServices>
): Promise<A> => Effect.runPromise(Effect.provide(effect, hostLayer(config)))

/** Like runWith, resolving to the failure (rejects if the effect succeeds). */
export const failureWith = <A, E>(
  config: NodeHostConfigInput,
  effect: Effect.Effect<A, E, NodeHost.NodeHostServices>
): Promise<E> => Effect.runPromise(Effect.provide(Effect.flip(effect), hostLayer(config)))
