/**
 * A client of multipathd's command socket, speaking libmpathcmd's protocol
 * (what the `multipathd` command does, without starting a process: each
 * `multipathd …` process costs 0.3-2.5 s in the lab's emulated guest).
 * A request is the command's length with its NUL (a native size_t: 8 bytes,
 * little endian, on the 64-bit hosts brick runs on), then the command and a
 * NUL; the reply is framed the same way. The socket is the abstract
 * `@/org/kernel/linux/storage/multipathd` (multipath-tools 0.9.x), so it is
 * reachable only from multipathd's network namespace.
 */
import { Data, Duration, Effect } from "effect"
import * as NodeNet from "node:net"

/** Replies larger than this are refused (libmpathcmd's MAX_REPLY_LEN is 32 MiB). */
const maxReply = 32 * 1024 * 1024

/** The socket could not be reached, did not answer in time, or answered garbage. */
export class MultipathdSocketError extends Data.TaggedError("MultipathdSocketError")<{
  readonly reason: { readonly _tag: "Unreachable" } | { readonly _tag: "Timeout" } | { readonly _tag: "Protocol" }
  readonly detail: string
}> {
  override get message(): string {
    return `multipathd socket: ${this.reason._tag}: ${this.detail}`
  }
}

/** One request as sent: length (with the NUL) as a little-endian 64-bit integer, the command, NUL. */
export const frame = (command: string): Buffer => {
  const body = Buffer.from(`${command}\0`, "utf8")
  const head = Buffer.alloc(8)
  head.writeBigUInt64LE(BigInt(body.length))
  return Buffer.concat([head, body])
}

/** The reply in `data` once it is complete (without its NUL); undefined while more is due; an Error when malformed. */
export const parseReply = (data: Buffer): string | undefined | Error => {
  if (data.length < 8) return undefined
  const length = data.readBigUInt64LE(0)
  if (length === 0n || length >= BigInt(maxReply)) return new Error(`reply length ${length}`)
  const end = 8 + Number(length)
  if (data.length < end) return undefined
  const body = data.subarray(8, end)
  return body.toString("utf8", 0, body[body.length - 1] === 0 ? body.length - 1 : body.length)
}

/** Sends `command` to multipathd's socket at `path` (a leading NUL: abstract) and resolves to its reply text ("ok", "fail", …). */
export const request = (
  command: string,
  timeout: Duration.Input,
  path: string
): Effect.Effect<string, MultipathdSocketError> =>
  Effect.callback<string, MultipathdSocketError>((resume) => {
    let data = Buffer.alloc(0)
    let done = false
    const socket = NodeNet.createConnection({ path })
    const finish = (effect: Effect.Effect<string, MultipathdSocketError>) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resume(effect)
    }
    const fail = (reason: MultipathdSocketError["reason"], detail: string) =>
      finish(Effect.fail(new MultipathdSocketError({ reason, detail })))
    const timer = setTimeout(() => fail({ _tag: "Timeout" }, `no reply to "${command}" in ${Duration.format(Duration.fromInputUnsafe(timeout))}`), Duration.toMillis(Duration.fromInputUnsafe(timeout)))
    let connected = false
    socket.on("connect", () => {
      connected = true
      socket.write(frame(command))
    })
    socket.on("data", (chunk) => {
      data = Buffer.concat([data, chunk])
      const reply = parseReply(data)
      if (reply instanceof Error) fail({ _tag: "Protocol" }, reply.message)
      else if (reply !== undefined) finish(Effect.succeed(reply))
    })
    socket.on("error", (e) => fail(connected ? { _tag: "Protocol" } : { _tag: "Unreachable" }, e.message))
    socket.on("close", () => fail({ _tag: "Protocol" }, "closed before a whole reply"))
    return Effect.sync(() => {
      done = true
      clearTimeout(timer)
      socket.destroy()
    })
  })
