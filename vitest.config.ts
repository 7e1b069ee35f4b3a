import { defineConfig } from "vitest/config"

export default defineConfig({
  // Tests run the workspace packages from source, not from a stale dist/.
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"], externalConditions: ["source"] } },
  test: {
    setupFiles: ["./vitest.setup.ts"],
    include: ["packages/*/test/**/*.test.ts", "examples/test/**/*.test.ts", "scripts/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/*.lab.test.ts"],
    testTimeout: 60_000
  }
})
