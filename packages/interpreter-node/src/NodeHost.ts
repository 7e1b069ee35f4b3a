/**
 * Every core service on the real host in one layer: Iscsiadm, Sysfs,
 * Multipath, BlockDevice, Lock and Network, plus the CommandRunner (for its spawn
 * counts) and the NodeHostConfig they share. Needs effect's
 * ChildProcessSpawner (`NodeServices.layer` from @effect/platform-node);
 * `layerWithServices` brings that too.
 */
import type { IscsiServices } from "@brick/core"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Layer } from "effect"
import type { ChildProcessSpawner } from "effect/process"
import * as CommandRunner from "./CommandRunner.ts"
import * as NodeBlockDevice from "./NodeBlockDevice.ts"
import * as NodeHostConfig from "./NodeHostConfig.ts"
import * as NodeIscsiadm from "./NodeIscsiadm.ts"
import * as NodeLock from "./NodeLock.ts"
import * as NodeMultipath from "./NodeMultipath.ts"
import * as NodeNetwork from "./NodeNetwork.ts"
import * as NodeSysfs from "./NodeSysfs.ts"

/** What the node host layer provides. */
export type NodeHostServices =
  | IscsiServices
  | CommandRunner.CommandRunner
  | NodeHostConfig.NodeHostConfig

/** The services over a host configured by `config` (defaults: root `/`, no prefix, tools on PATH). */
export const layer = (
  config: NodeHostConfig.NodeHostConfigInput = {}
): Layer.Layer<NodeHostServices, never, ChildProcessSpawner.ChildProcessSpawner> => {
  const configLayer = Layer.succeed(NodeHostConfig.NodeHostConfig, NodeHostConfig.make(config))
  const runner = CommandRunner.layer.pipe(Layer.provideMerge(configLayer))
  return Layer.mergeAll(
    NodeIscsiadm.layer,
    NodeSysfs.layer,
    NodeMultipath.layer,
    NodeBlockDevice.layer,
    NodeNetwork.layer
  ).pipe(Layer.provideMerge(NodeLock.layer), Layer.provideMerge(runner))
}

/** `layer(config)` with Node's platform services (child processes) included. */
export const layerWithServices = (config: NodeHostConfig.NodeHostConfigInput = {}): Layer.Layer<NodeHostServices> =>
  layer(config).pipe(Layer.provide(NodeServices.layer))
