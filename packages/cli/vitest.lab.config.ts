// Real-kernel tests of the brick command, run inside the lab guest:
//   lab/run.sh -- vitest run --config packages/cli/vitest.lab.config.ts
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: { conditions: ["source"] },
  test: {
    root: import.meta.dirname,
    include: ["test/**/*.lab.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // a forks worker can take over vitest's fixed 60 s start limit in a loaded TCG guest
    pool: "threads"
  }
})
