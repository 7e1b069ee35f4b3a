/**
 * The CLI's streams on a real process: fd 1 and 2 written synchronously,
 * stdin and files read with node:fs.
 */
import * as fs from "node:fs"
import type { IoShape, ReadFailure } from "./Io.ts"

const failure = (e: unknown): ReadFailure => {
  const code = (e as { code?: unknown } | undefined)?.code
  switch (code) {
    case "ENOENT":
      return { _tag: "NotFound" }
    case "EACCES":
    case "EPERM":
      return { _tag: "PermissionDenied" }
    case "EISDIR":
      return { _tag: "IsDirectory" }
    default:
      return { _tag: "Failed", detail: typeof code === "string" ? code : "read error" }
  }
}

const writeAll = (fd: number, text: string) => {
  const buffer = Buffer.from(text, "utf8")
  let offset = 0
  while (offset < buffer.length) {
    try {
      offset += fs.writeSync(fd, buffer, offset)
    } catch (e) {
      if ((e as { code?: unknown }).code === "EAGAIN") continue
      if ((e as { code?: unknown }).code === "EPIPE") return
      throw e
    }
  }
}

/** The process's own streams. */
export const make = (): IoShape => ({
  stdout: (text) => writeAll(1, text),
  stderr: (text) => writeAll(2, text),
  readStdin: () =>
    new Promise((resolve, reject) => {
      const chunks: Array<Buffer> = []
      process.stdin.on("data", (c: Buffer) => chunks.push(c))
      process.stdin.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
      process.stdin.on("error", (e) => reject(failure(e)))
    }),
  readFile: (path) => fs.promises.readFile(path, "utf8").catch((e: unknown) => Promise.reject(failure(e))),
  stderrIsTTY: process.stderr.isTTY === true
})
