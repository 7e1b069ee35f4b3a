/**
 * open-iscsi's exit codes (include/iscsi_err.h) mapped to core's
 * IscsiadmReason. Codes not listed are `Failed`; the caller keeps the code
 * and stderr in the error for diagnosis.
 */
import type { Iscsiadm } from "@brick/core"

type Reason = Iscsiadm.IscsiadmReason

/** open-iscsi's return codes, by their names in iscsi_err.h. */
export const codes = {
  ISCSI_SUCCESS: 0,
  ISCSI_ERR: 1,
  ISCSI_ERR_SESS_NOT_FOUND: 2,
  ISCSI_ERR_NOMEM: 3,
  ISCSI_ERR_TRANS: 4,
  ISCSI_ERR_LOGIN: 5,
  ISCSI_ERR_IDBM: 6,
  ISCSI_ERR_INVAL: 7,
  ISCSI_ERR_TRANS_TIMEOUT: 8,
  ISCSI_ERR_INTERNAL: 9,
  ISCSI_ERR_LOGOUT: 10,
  ISCSI_ERR_PDU_TIMEOUT: 11,
  ISCSI_ERR_TRANS_NOT_FOUND: 12,
  ISCSI_ERR_ACCESS: 13,
  ISCSI_ERR_TRANS_CAPS: 14,
  ISCSI_ERR_SESS_EXISTS: 15,
  ISCSI_ERR_INVALID_MGMT_REQ: 16,
  ISCSI_ERR_ISNS_UNAVAILABLE: 17,
  ISCSI_ERR_ISCSID_COMM_ERR: 18,
  ISCSI_ERR_FATAL_LOGIN: 19,
  ISCSI_ERR_ISCSID_NOTCONN: 20,
  ISCSI_ERR_NO_OBJS_FOUND: 21,
  ISCSI_ERR_SYSFS_LOOKUP: 22,
  ISCSI_ERR_HOST_NOT_FOUND: 23,
  ISCSI_ERR_LOGIN_AUTH_FAILED: 24,
  ISCSI_ERR_ISNS_QUERY: 25,
  ISCSI_ERR_ISNS_REG_FAILED: 26,
  ISCSI_ERR_OP_NOT_SUPP: 27,
  ISCSI_ERR_BUSY: 28,
  ISCSI_ERR_AGAIN: 29,
  ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE: 30,
  ISCSI_ERR_CHILD_TERMINATED: 31
} as const

const table: ReadonlyMap<number, Reason["_tag"]> = new Map<number, Reason["_tag"]>([
  [codes.ISCSI_ERR_SESS_EXISTS, "SessionExists"],
  [codes.ISCSI_ERR_NO_OBJS_FOUND, "NotFound"],
  [codes.ISCSI_ERR_SESS_NOT_FOUND, "NotFound"],
  [codes.ISCSI_ERR_LOGIN_AUTH_FAILED, "AuthenticationFailed"],
  [codes.ISCSI_ERR_LOGIN, "LoginFailed"],
  [codes.ISCSI_ERR_FATAL_LOGIN, "LoginRejected"],
  [codes.ISCSI_ERR_TRANS_NOT_FOUND, "TransportUnavailable"],
  [codes.ISCSI_ERR_TRANS_CAPS, "TransportUnavailable"],
  [codes.ISCSI_ERR_TRANS_TIMEOUT, "Timeout"],
  [codes.ISCSI_ERR_PDU_TIMEOUT, "Timeout"],
  [codes.ISCSI_ERR_ISCSID_NOTCONN, "DaemonUnreachable"],
  [codes.ISCSI_ERR_ISCSID_COMM_ERR, "DaemonUnreachable"],
  [codes.ISCSI_ERR_BUSY, "Busy"],
  [codes.ISCSI_ERR_AGAIN, "Busy"]
])

/** The reason an exit code stands for (`Failed` for any other non-zero code). */
export const reasonFor = (exitCode: number): Reason => ({ _tag: table.get(exitCode) ?? "Failed" }) as Reason
