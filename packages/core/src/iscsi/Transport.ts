/**
 * iSCSI transports open-iscsi knows, and whether they are software or
 * offload (hardware) transports.
 */
import { Schema } from "effect"

/** Transports brick supports. `default` is open-iscsi's name for tcp. */
export const transports = ["default", "tcp", "iser", "be2iscsi", "bnx2i", "cxgb3i", "cxgb4i", "qla4xxx", "ocs"] as const

/** An iSCSI transport name. */
export const Transport = Schema.Literals(transports)
/** An iSCSI transport name. */
export type Transport = typeof Transport.Type

/** Offload transports: their by-path links carry the HBA's PCI address. */
export const isOffload = (t: Transport): boolean =>
  t === "be2iscsi" || t === "bnx2i" || t === "cxgb3i" || t === "cxgb4i" || t === "qla4xxx" || t === "ocs"

/** Software transports (tcp and iser run over the host's network stack). */
export const isSoftware = (t: Transport): boolean => !isOffload(t)

/** Is `s` a transport brick supports? */
export const isTransport = (s: string): s is Transport => (transports as ReadonlyArray<string>).includes(s)
