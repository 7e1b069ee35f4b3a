/**
 * The services brick's iSCSI programs run on: what an interpreter (the real
 * host, the simulator) provides.
 */
import type { BlockDevice } from "../BlockDevice.ts"
import type { Lock } from "../Lock.ts"
import type { Multipath } from "../Multipath.ts"
import type { Network } from "../Network.ts"
import type { Sysfs } from "../Sysfs.ts"
import type { Iscsiadm } from "./Iscsiadm.ts"

/** Every service a connect, disconnect, extend, paths or properties program may use. */
export type IscsiServices = Iscsiadm | Sysfs | Multipath | BlockDevice | Lock | Network
