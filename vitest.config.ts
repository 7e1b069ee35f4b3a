import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.lab.test.ts"],
    testTimeout: 60_000
  }
})
