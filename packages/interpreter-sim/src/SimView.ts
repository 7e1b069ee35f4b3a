/**
 * The /sys and /dev trees of a simulated host, derived from its state
 * whenever a path is looked up (nothing is kept between lookups), with the
 * real kernel's layout for iSCSI and udev's and device-mapper's /dev links.
 */
import { devTree } from "./internal/devTree.ts"
import { sys } from "./internal/sysClasses.ts"
import type { SimState } from "./SimState.ts"
import { fixed, type VNode } from "./SimTree.ts"

export { blockDir, deviceDir, dmDir, hostDir, sessionDir, targetDir } from "./internal/sysPaths.ts"

/** The root of a host's /sys + /dev tree. */
export const make = (st: SimState): VNode => fixed({ sys: () => sys(st), dev: () => devTree(st) })
