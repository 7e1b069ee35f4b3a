// Real-kernel tests of interpreter-node, run inside the lab guest:
//   lab/run.sh -- npx vitest run --config packages/interpreter-node/vitest.lab.config.ts
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.lab.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    // a forks worker can take over vitest's fixed 60 s start limit in a loaded TCG guest
    pool: "threads"
  }
})
