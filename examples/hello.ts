import { Effect } from "effect"
import { x } from "@brick/interpreter-sim"
Effect.runPromise(x).then(console.log)
