// The target-lock hand-offs of a burst, from a bench JSON's attach trace: per target, when each
// connect let the lock go ("target locks released") and when the next took it ("lock … taken at
// try N", logged by builds that log their lock waits), with the delay between the two; for builds
// that do not log the wait, the ends of the waits (Lock.acquire spans over 1 s) and of the connects.
//   node lab/bench/handoff.mjs lab/bench/results/<stamp>.json [case, default burst16] [who, default brick]
import * as fs from "node:fs"
const [file, only = "burst16", who = "brick"] = process.argv.slice(2)
const raw = JSON.parse(fs.readFileSync(file, "utf8"))
const s = (ms) => (ms / 1000).toFixed(1)
for (const o of raw.ops) {
  if (o.who !== who || o.case !== only) continue
  const released = [], taken = [], waitsEnded = [], connectsEnded = []
  for (const l of o.attachTrace ?? []) {
    let m = /^(\d+) \[burst-(\d+)\] every path has its device: target locks released/.exec(l)
    if (m) released.push({ t: +m[1], v: +m[2] })
    m = /^(\d+) \[burst-(\d+)\] lock \S+ taken at try (\d+) \(tries at most (\d+) ms apart[;)]/.exec(l)
    if (m) taken.push({ t: +m[1], v: +m[2], tries: +m[3], gap: +m[4] })
    m = /^(\d+) Lock\.acquire\] (\d+) ms/.exec(l)
    if (m && +m[2] > 1000) waitsEnded.push(+m[1])
    m = /^(\d+) brick\.connect\] /.exec(l)
    if (m) connectsEnded.push(+m[1])
  }
  console.log(`--- ${o.who} ${o.case}: attach wall ${s(o.attachWallMs)} s (times in s from the start)`)
  for (let t = 0; t < 4; t++) {
    const events = [...released.map((e) => ({ ...e, r: true })), ...taken].filter((e) => e.v % 4 === t)
    let last
    const parts = events.sort((a, b) => a.t - b.t).map((e) => {
      if (e.r) return (last = e.t, `burst-${e.v} let go ${s(e.t)}`)
      const after = last === undefined ? "" : ` = +${e.t - last} ms`
      return `burst-${e.v} took ${s(e.t)}${after} (try ${e.tries}, tries <= ${e.gap} ms apart)`
    })
    console.log(`target ${t}: ${parts.join("; ")}`)
  }
  if (taken.length === 0) console.log(`waits ended (Lock.acquire > 1 s): ${waitsEnded.map(s).join(", ")}`)
  console.log(`connects ended: ${connectsEnded.map(s).join(", ")}`)
}
