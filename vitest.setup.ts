// Replays a property-test failure: BRICK_FC_SEED=<seed printed by fast-check> npx vitest run <file>
import * as fc from "fast-check"

const seed = process.env["BRICK_FC_SEED"]
if (seed !== undefined && seed !== "") fc.configureGlobal({ seed: Number(seed) })
