#!/usr/bin/env node
// Tokenizes criteria files with the extension's grammar (as VS Code does, with vscode-textmate and
// the Oniguruma regular expressions) and checks that every character outside whitespace gets a
// scope of its own: a keyword, name, number, unit, string, comment or punctuation, never just
// `source.critlang`.
//
//   node test/tokenize.js                 the repository's examples/*.crit and src/critlang/std/*.crit
//   node test/tokenize.js FILE...         these files
//   node test/tokenize.js --dump FILE     print each token and its scopes
//   node test/tokenize.js --json FILE...  print {file: [[line, start, end, scopes], ...]} (the
//                                         repository's tests compare it with critlang's lexer)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const HERE = __dirname;
const EXTENSION = path.join(HERE, "..");
const REPOSITORY = path.join(EXTENSION, "..", "..");
const GRAMMAR = path.join(EXTENSION, "syntaxes", "critlang.tmLanguage.json");

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) =>
      scopeName === "source.critlang"
        ? vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR)
        : null,
  });
  return registry.loadGrammar("source.critlang");
}

function* tokens(grammar, text) {
  let state = vsctm.INITIAL;
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      yield { line: index + 1, text: line, token };
    }
    state = result.ruleStack;
  }
}

function defaultFiles() {
  const folders = [path.join(REPOSITORY, "examples"), path.join(REPOSITORY, "src", "critlang", "std")];
  const files = [];
  for (const folder of folders) {
    if (fs.existsSync(folder)) {
      for (const name of fs.readdirSync(folder).sort()) {
        if (name.endsWith(".crit")) {
          files.push(path.join(folder, name));
        }
      }
    }
  }
  return files;
}

async function main() {
  const args = process.argv.slice(2);
  const mode = args[0] === "--dump" || args[0] === "--json" ? args[0] : undefined;
  const named = mode !== undefined ? args.slice(1) : args;
  const files = named.length > 0 ? named : defaultFiles();
  if (files.length === 0) {
    console.error(
      "no criteria files: run this inside the critlang repository (it reads ../../examples and " +
        "../../src/critlang/std), or name the files",
    );
    process.exit(2);
  }
  const grammar = await loadGrammar();
  if (mode === "--json") {
    const out = {};
    for (const file of files) {
      out[file] = [];
      for (const { line, token } of tokens(grammar, fs.readFileSync(file, "utf8"))) {
        out[file].push([line, token.startIndex, token.endIndex, token.scopes]);
      }
    }
    process.stdout.write(JSON.stringify(out));
    return;
  }
  const dump = mode === "--dump";
  let failures = 0;
  let lines = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    lines += text.split(/\r?\n/).length;
    for (const { line, text: lineText, token } of tokens(grammar, text)) {
      const piece = lineText.slice(token.startIndex, token.endIndex);
      if (dump) {
        if (piece.trim() !== "") {
          console.log(`${line}:${token.startIndex} ${JSON.stringify(piece)} ${token.scopes.slice(1).join(" ")}`);
        }
        continue;
      }
      const own = token.scopes.filter((scope) => scope !== "source.critlang" && !scope.startsWith("meta."));
      if (piece.trim() !== "" && own.length === 0) {
        failures++;
        console.error(
          `${path.relative(process.cwd(), file)}:${line}:${token.startIndex + 1}: no scope for ${JSON.stringify(piece)}\n    ${lineText}`,
        );
      }
    }
  }
  if (!dump) {
    if (failures > 0) {
      console.error(`${failures} token(s) without a scope in ${files.length} file(s)`);
      process.exit(1);
    }
    console.log(`tokenized ${files.length} file(s), ${lines} lines: every token has a scope`);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
