/**
 * What Cinder sends as `connection_info.data` for an iSCSI volume, decoded
 * into branded domain types with secrets held as `Redacted`. The whole
 * `{driver_volume_type: "iscsi", data}` object is accepted too. Unknown keys
 * are tolerated; every refusal names its field.
 */
import { Effect, Option, Redacted, Result, Schema } from "effect"
import * as InvalidInput from "../InvalidInput.ts"
import { AddressingMode, LunFromInput } from "../Lun.ts"
import { Iqn } from "./Iqn.ts"
import { PortalFromString } from "./Portal.ts"

/**
 * A CHAP secret. iscsiadm writes `name = value` record lines, so a CR, LF or
 * NUL in a secret would inject record lines (or cannot be an argv word): refused
 * here, naming the field, before any command runs.
 */
const Secret = Schema.RedactedFromValue(
  Schema.String.check(
    Schema.isNonEmpty({ message: "a non-empty secret" }),
    Schema.isPattern(/^[^\r\n\0]*$/, { message: "a secret without line breaks or NUL" })
  )
)
/** A CHAP user name: it becomes an iscsiadm value, so no white space, NUL or leading '-'. */
const Name = Schema.String.check(
  Schema.isPattern(/^(?!-)[^\s\0]{1,255}$/, {
    message: "a name of 1-255 characters without white space, not starting with '-'"
  })
)

/** Cinder's auth_method values; `None` and absence mean no authentication. */
export const AuthMethod = Schema.Literals(["CHAP", "chap", "None", "none"])

const optional = Schema.optionalKey

/** The fields of `connection_info.data`, as Cinder names them. */
export const ConnectionData = Schema.Struct({
  target_portal: optional(PortalFromString),
  target_iqn: optional(Iqn),
  target_lun: optional(LunFromInput),
  target_portals: optional(Schema.Array(PortalFromString).check(Schema.isMinLength(1))),
  target_iqns: optional(Schema.Array(Iqn).check(Schema.isMinLength(1))),
  target_luns: optional(Schema.Array(LunFromInput).check(Schema.isMinLength(1))),
  auth_method: optional(AuthMethod),
  auth_username: optional(Name),
  auth_password: optional(Secret),
  auth_username_in: optional(Name),
  auth_password_in: optional(Secret),
  discovery_auth_method: optional(AuthMethod),
  discovery_auth_username: optional(Name),
  discovery_auth_password: optional(Secret),
  addressing_mode: optional(AddressingMode),
  encrypted: optional(Schema.Boolean),
  volume_id: optional(Schema.String.check(Schema.isMaxLength(255))),
  access_mode: optional(Schema.Literals(["rw", "ro"])),
  target_discovered: optional(Schema.Boolean)
})
/** The decoded fields of `connection_info.data`. */
export type ConnectionData = typeof ConnectionData.Type

/** CHAP credentials; the `in` pair is the target's (mutual CHAP). */
export interface Chap {
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly usernameIn: Option.Option<string>
  readonly passwordIn: Option.Option<Redacted.Redacted<string>>
}

const isChap = (m: string | undefined) => m === "CHAP" || m === "chap"

/** Cross-field rules Cinder's format leaves implicit, each naming a field. */
const crossFieldIssues = (d: ConnectionData): ReadonlyArray<InvalidInput.FieldIssue> => {
  const issues: Array<InvalidInput.FieldIssue> = []
  const need = (field: string, ok: boolean, message: string) => {
    if (!ok) issues.push({ field, message })
  }
  const plural = d.target_portals !== undefined || d.target_iqns !== undefined || d.target_luns !== undefined
  if (!plural) {
    need("target_portal", d.target_portal !== undefined, "required (or target_portals)")
    need("target_iqn", d.target_iqn !== undefined, "required (or target_iqns)")
  } else {
    need(
      "target_portals",
      d.target_portals !== undefined || d.target_portal !== undefined,
      "required with target_iqns/target_luns"
    )
    // without target_portals, the lists pair with the single target_portal
    const n = d.target_portals?.length ?? (d.target_portal === undefined ? undefined : 1)
    const portalsField = d.target_portals === undefined ? "target_portal" : "target_portals"
    if (n !== undefined && d.target_iqns !== undefined && d.target_iqns.length !== n) {
      issues.push({ field: "target_iqns", message: `must have as many entries as ${portalsField} (${n})` })
    }
    if (n !== undefined && d.target_luns !== undefined && d.target_luns.length !== n) {
      issues.push({ field: "target_luns", message: `must have as many entries as ${portalsField} (${n})` })
    }
    need("target_iqns", d.target_iqns !== undefined || d.target_iqn !== undefined, "required (or target_iqn)")
  }
  if (d.target_luns === undefined) need("target_lun", d.target_lun !== undefined, "required (or target_luns)")
  if (isChap(d.auth_method)) {
    need("auth_username", d.auth_username !== undefined, "required when auth_method is CHAP")
    need("auth_password", d.auth_password !== undefined, "required when auth_method is CHAP")
    need(
      "auth_password_in",
      d.auth_username_in === undefined || d.auth_password_in !== undefined,
      "required with auth_username_in (mutual CHAP)"
    )
    need(
      "auth_username_in",
      d.auth_password_in === undefined || d.auth_username_in !== undefined,
      "required with auth_password_in (mutual CHAP)"
    )
  }
  if (isChap(d.discovery_auth_method)) {
    need(
      "discovery_auth_username",
      d.discovery_auth_username !== undefined,
      "required when discovery_auth_method is CHAP"
    )
    need(
      "discovery_auth_password",
      d.discovery_auth_password !== undefined,
      "required when discovery_auth_method is CHAP"
    )
  }
  return issues
}

/** Session CHAP credentials, when auth_method is CHAP. */
export const sessionChap = (d: ConnectionData): Option.Option<Chap> =>
  isChap(d.auth_method) && d.auth_username !== undefined && d.auth_password !== undefined
    ? Option.some({
      username: d.auth_username,
      password: d.auth_password,
      usernameIn: Option.fromUndefinedOr(d.auth_username_in),
      passwordIn: Option.fromUndefinedOr(d.auth_password_in)
    })
    : Option.none()

/** Discovery CHAP credentials, when discovery_auth_method is CHAP. */
export const discoveryChap = (d: ConnectionData): Option.Option<Chap> =>
  isChap(d.discovery_auth_method) && d.discovery_auth_username !== undefined && d.discovery_auth_password !== undefined
    ? Option.some({
      username: d.discovery_auth_username,
      password: d.discovery_auth_password,
      usernameIn: Option.none(),
      passwordIn: Option.none()
    })
    : Option.none()

const decodeData = Schema.decodeUnknownResult(ConnectionData)
const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Decodes connection info: Cinder's `data` object, or the whole
 * `{driver_volume_type: "iscsi", data}`. Fails with every offending field.
 */
export const decode = (input: unknown): Effect.Effect<ConnectionData, InvalidInput.InvalidInput> => {
  const fail = (issues: ReadonlyArray<InvalidInput.FieldIssue>) =>
    Effect.fail(new InvalidInput.InvalidInput({ reason: { source: "connection_info", issues } }))
  if (!isRecord(input)) return fail([{ field: "(input)", message: "an object (connection_info or its data)" }])
  // `driver_volume_type` marks the whole connection_info, whose fields live under `data`
  const wrapped = "driver_volume_type" in input
  if (wrapped && input["driver_volume_type"] !== "iscsi" && input["driver_volume_type"] !== "ISCSI") {
    return fail([{ field: "driver_volume_type", message: "\"iscsi\"" }])
  }
  const prefix = wrapped ? ["data"] : []
  const data = wrapped ? input["data"] : input
  if (!isRecord(data)) return fail([{ field: "data", message: "an object" }])
  const result = decodeData(data, { errors: "all" })
  if (Result.isFailure(result)) return fail(InvalidInput.fieldIssues(result.failure.issue, prefix))
  const cross = crossFieldIssues(result.success)
  if (cross.length > 0) {
    return fail(cross.map((i) => ({ field: InvalidInput.fieldName([...prefix, i.field]), message: i.message })))
  }
  return Effect.succeed(result.success)
}
