// The FluentAI extension's client: starts the language server, `fluentai lsp`, and talks to
// it over stdio. Highlighting, comments, brackets and indentation need no code (they are
// the grammar and language-configuration.json); this file only manages the server process.
//
// The command is the setting `fluentai.serverPath` (default `fluentai`, found on PATH), so a
// project can point at the `fluentai` of its own virtualenv. Changing it restarts the server.
// The server's own settings (`fluentai.diagnosticsDelay`, `fluentai.warnings`) go to it as
// initializationOptions, and again whenever they change (workspace/didChangeConfiguration).
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

const SECTION = "fluentai";

/** @type {LanguageClient | undefined} */
let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration(SECTION).get("serverPath") || "fluentai";
  return { command, args: ["lsp"], transport: TransportKind.stdio };
}

function serverSettings() {
  const config = vscode.workspace.getConfiguration(SECTION);
  return { diagnosticsDelay: config.get("diagnosticsDelay"), warnings: config.get("warnings") };
}

async function start() {
  const server = serverOptions();
  client = new LanguageClient(SECTION, "FluentAI language server", server, {
    documentSelector: [
      { scheme: "file", language: "fluentai" },
      { scheme: "untitled", language: "fluentai" },
    ],
    initializationOptions: serverSettings(),
    synchronize: { configurationSection: SECTION },
  });
  try {
    await client.start();
  } catch (err) {
    // Without a server the editor still highlights; say once what is missing and how to
    // fix it, instead of failing the extension.
    client = undefined;
    const message = err instanceof Error ? err.message : String(err);
    vscode.window.showWarningMessage(
      `FluentAI: could not start the language server "${server.command} lsp" (${message}). ` +
        "Install fluentai or set fluentai.serverPath to its executable."
    );
  }
}

async function stop() {
  const running = client;
  client = undefined;
  if (running) {
    await running.stop();
  }
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration(`${SECTION}.serverPath`)) {
        await stop();
        await start();
      }
    }),
    { dispose: () => stop() }
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
