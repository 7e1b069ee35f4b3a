// Bundles every compiled lab test (lab-test-files.mjs, in order) and what they import
// into ONE file, on the host: the guest then loads 1 module instead of ~400 over 9p
// under emulation (a cold import of the packages took 37-188 s there).
// `import.meta.url` keeps meaning each test's own compiled file (tests locate the CLI
// and the examples relative to themselves).
//   node lab/test/bundle-lab-tests.mjs OUT.mjs
import { pathToFileURL } from "node:url"
import { rolldown } from "rolldown"
import { labTestFiles } from "./lab-test-files.mjs"

const out = process.argv[2]
if (!out) throw new Error("usage: bundle-lab-tests.mjs OUT.mjs")
const files = labTestFiles()
const entry = "\0brick-lab-tests"
const bundle = await rolldown({
  input: entry,
  platform: "node",
  logLevel: "warn",
  // the packages say "sideEffects": false; a test file's side effect is registering its tests
  treeshake: { moduleSideEffects: (id) => (files.includes(id) ? true : undefined) },
  plugins: [{
    name: "brick-lab-tests",
    resolveId: (id) => (id === entry ? entry : null),
    load: (id) => (id === entry ? files.map((f) => `import ${JSON.stringify(f)}`).join("\n") : null),
    transform: (code, id) =>
      code.includes("import.meta.url") && !id.includes("/node_modules/")
        ? { code: code.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(id).href)), map: null }
        : null
  }]
})
await bundle.write({ file: out, format: "esm" })
await bundle.close()
console.log(`bundled ${files.length} lab test files into ${out}`)
