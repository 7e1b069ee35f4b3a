/**
 * How a command gets the host it acts on. Commands call `Host.layer(flags)`
 * only after their input decoded, so bad input never builds a host (nor
 * spawns a process). The real CLI uses interpreter-node's NodeHost; tests
 * may install another factory (e.g. the simulator) with `Host.layerFactory`.
 */
import type { IscsiServices } from "@brick/core"
import { NodeHost } from "@brick/interpreter-node"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Context, Effect, Layer, Option } from "effect"
import type { HostFlags } from "./GlobalFlags.ts"

/** The services brick's programs run on. */
export type HostServices = IscsiServices

/** Builds the host's layer from the host flags. */
export type Factory = (flags: HostFlags) => Layer.Layer<HostServices>

/** The factory in use. */
export class HostFactory extends Context.Reference<Factory>("@brick/cli/HostFactory", {
  defaultValue: () => node
}) {}

/** The command-prefix flag's words. */
export const prefixWords = (prefix: string): ReadonlyArray<string> => prefix.split(/\s+/).filter((w) => w.length > 0)

/** The real host through interpreter-node, configured by the flags. */
export const node: Factory = (flags) =>
  NodeHost.layer({
    ...Option.match(flags.root, { onNone: () => ({}), onSome: (root) => ({ root }) }),
    ...Option.match(flags.iscsiadm, { onNone: () => ({}), onSome: (iscsiadmPath) => ({ iscsiadmPath }) }),
    ...Option.match(flags.multipathd, { onNone: () => ({}), onSome: (multipathdPath) => ({ multipathdPath }) }),
    ...Option.match(flags.commandPrefix, { onNone: () => ({}), onSome: (p) => ({ commandPrefix: prefixWords(p) }) }),
    ...(flags.iscsiadmRecords ? { nodeRecordWrites: "iscsiadm" as const } : {})
  }).pipe(Layer.provide(NodeServices.layer))

/** Runs `effect` on the host the flags name. */
export const provide = (flags: HostFlags) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  HostFactory.use((factory) => Effect.provide(effect, factory(flags)))

/** Installs another factory (tests: the simulator). */
export const layerFactory = (factory: Factory): Layer.Layer<never> => Layer.succeed(HostFactory)(factory)
