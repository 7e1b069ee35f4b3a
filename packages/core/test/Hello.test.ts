import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import * as fc from "fast-check"
import { Hello } from "@brick/core"
describe("hello", () => {
  it("works", async () => {
    expect(await Effect.runPromise(Hello.hello("a"))).toBe("hello a")
    fc.assert(fc.property(fc.string(), (s) => Effect.runSync(Hello.hello(s)) === `hello ${s}`))
  })
})
