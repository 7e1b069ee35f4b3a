// Prints brick's timed log (every command with its duration) of the runs in a bench JSON:
//   node lab/bench/trace.mjs lab/bench/results/<stamp>.json [case] [attach|detach]
import * as fs from "node:fs"
const [file, only, phase] = process.argv.slice(2)
const raw = JSON.parse(fs.readFileSync(file, "utf8"))
for (const o of raw.ops) {
  if (o.who !== "brick" || (only && o.case !== only)) continue
  for (const p of phase ? [phase] : ["attach", "detach"]) {
    console.log(`--- ${o.case} ${p} ${Math.round(o[`${p}Ms`])} ms ${JSON.stringify(o[`${p}Counts`])}`)
    for (const l of o[`${p}Trace`] ?? []) console.log("  " + l)
  }
}
