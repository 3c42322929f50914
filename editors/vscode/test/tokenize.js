// Tokenize .flc files with the extension's TextMate grammar, the way VS Code does
// (vscode-textmate with the Oniguruma regex engine), and print one JSON line per file:
//   {"file": ..., "balanced": bool, "invalid": ["text at line:col", ...], "classes": "..."}
// - balanced: the grammar is back in its top-level state at the end (every string,
//   f-string, comment and brace it opened was closed);
// - classes: one letter per character of the file (per code point, newlines kept as
//   "\n"): c comment, s string, n number, k keyword or constant, . anything else. Code
//   inside an f-string's {…} is classed as code. tests/editors/test_vscode.py compares this
//   with what the Pygments lexer says of the same files.
// Usage: node test/tokenize.js FILE.flc...   (--scopes FILE.flc: every token's scopes)
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const GRAMMAR = path.join(__dirname, "..", "syntaxes", "fluentai.tmLanguage.json");
const KEYWORD_SCOPES = /^(keyword\.(control|other)|storage\.(type|modifier)|constant\.language|variable\.language|support\.constant)\b/;

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async () => vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, "utf8"), GRAMMAR),
  });
  return registry.loadGrammar("source.fluentai");
}

function tokenize(grammar, text, onToken, onNewline = () => {}) {
  let stack = vsctm.INITIAL;
  text.split("\n").forEach((line, index) => {
    if (index > 0) onNewline();
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      onToken(line.substring(token.startIndex, token.endIndex), token.scopes, index + 1,
        token.startIndex + 1);
    }
    stack = result.ruleStack;
  });
  return stack;
}

// The class of a token from its scopes, innermost first: inside a string unless code
// embedded in an f-string comes first.
function classOf(scopes) {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (scope.startsWith("source.fluentai.embedded")) break;
    if (scope.startsWith("comment.")) return "c";
    if (scope.startsWith("string.")) return "s";
  }
  const inner = scopes[scopes.length - 1];
  if (inner.startsWith("comment.")) return "c";
  if (inner.startsWith("constant.numeric")) return "n";
  if (KEYWORD_SCOPES.test(inner)) return "k";
  return ".";
}

async function main(args) {
  const grammar = await loadGrammar();
  if (args[0] === "--scopes") {
    tokenize(grammar, fs.readFileSync(args[1], "utf8"), (text, scopes, line, col) => {
      if (text.trim()) console.log(`${line}:${col} ${JSON.stringify(text)} ${scopes.join(" ")}`);
    });
    return;
  }
  for (const file of args) {
    const text = fs.readFileSync(file, "utf8");
    const invalid = [];
    const units = []; // a class per UTF-16 code unit of the text
    const end = tokenize(grammar, text, (token, scopes, line, col) => {
      if (scopes.some((s) => s.startsWith("invalid"))) invalid.push(`${token} at ${line}:${col}`);
      units.push(...Array(token.length).fill(classOf(scopes)));
    }, () => units.push("\n"));
    let classes = "";
    let at = 0;
    for (const ch of text) { // per code point, as Python counts
      classes += units[at];
      at += ch.length;
    }
    console.log(JSON.stringify({ file, balanced: end.depth === vsctm.INITIAL.depth, invalid, classes }));
  }
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err);
  process.exit(1);
});
