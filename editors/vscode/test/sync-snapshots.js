#!/usr/bin/env node
// The snapshot tests (vscode-tmgrammar-snap) run on copies of two of the repository's examples,
// kept in test/snap/ beside their snapshots (the tool writes NAME.crit.snap next to NAME.crit).
//
//   node test/sync-snapshots.js            copy the examples into test/snap/
//   node test/sync-snapshots.js --check    fail if a copy differs from its example
//
// When an example changes, `npm run snap:update` copies it and rewrites its snapshot: review the
// snapshot's diff before committing it. Outside the repository (no ../../examples) the check
// passes with a note, and the committed copies are tested as they are.
"use strict";

const fs = require("fs");
const path = require("path");

const EXAMPLES = ["NCT07480213.crit", "vegfr1-pdl1-cart.crit"];
const SOURCE = path.join(__dirname, "..", "..", "..", "examples");
const TARGET = path.join(__dirname, "snap");

const check = process.argv.includes("--check");
if (!fs.existsSync(SOURCE)) {
  console.log(`no ${SOURCE}: the snapshot copies in test/snap/ are not compared with the examples`);
  process.exit(0);
}
let stale = 0;
for (const name of EXAMPLES) {
  const source = fs.readFileSync(path.join(SOURCE, name), "utf8");
  const target = path.join(TARGET, name);
  const copy = fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
  if (copy === source) {
    continue;
  }
  if (check) {
    stale++;
    console.error(`test/snap/${name} differs from examples/${name}: run \`npm run snap:update\` and review the snapshot diff`);
  } else {
    fs.mkdirSync(TARGET, { recursive: true });
    fs.writeFileSync(target, source);
    console.log(`copied examples/${name} to test/snap/${name}`);
  }
}
if (stale > 0) {
  process.exit(1);
}
if (check) {
  console.log(`test/snap/: ${EXAMPLES.join(", ")} match the repository's examples`);
}
