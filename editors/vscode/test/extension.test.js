// extension.js with stand-ins for `vscode` and `vscode-languageclient/node` (VS Code itself
// cannot run here): the server is `<fluentai.serverPath> lsp` over stdio, for FluentAI
// documents; a changed serverPath restarts it; a server that fails to start is a warning.
// Run with `node --test test/`.
"use strict";

const assert = require("node:assert/strict");
const Module = require("node:module");
const path = require("node:path");
const test = require("node:test");

function load({ serverPath, startFails = false }) {
  const seen = { clients: [], warnings: [], configListeners: [] };
  const settings = { serverPath };
  const vscode = {
    workspace: {
      getConfiguration: (section) => ({ get: (key) => settings[key] ?? undefined, section }),
      onDidChangeConfiguration: (listener) => {
        seen.configListeners.push(listener);
        return { dispose() {} };
      },
    },
    window: { showWarningMessage: (message) => seen.warnings.push(message) },
  };
  class LanguageClient {
    constructor(id, name, server, client) {
      Object.assign(this, { id, name, server, client, running: false });
      seen.clients.push(this);
    }
    async start() {
      if (startFails) throw new Error("spawn fluentai ENOENT");
      this.running = true;
    }
    async stop() {
      this.running = false;
    }
  }
  const stubs = {
    vscode,
    "vscode-languageclient/node": { LanguageClient, TransportKind: { stdio: 0, ipc: 1 } },
  };
  const original = Module._load;
  Module._load = function (request, parent, isMain) {
    return request in stubs ? stubs[request] : original.call(this, request, parent, isMain);
  };
  const file = path.join(__dirname, "..", "extension.js");
  delete require.cache[file];
  try {
    return { extension: require(file), seen, settings };
  } finally {
    Module._load = original;
  }
}

test("starts `<serverPath> lsp` over stdio for FluentAI documents", async () => {
  const { extension, seen } = load({ serverPath: "/opt/venv/bin/fluentai" });
  const context = { subscriptions: [] };
  await extension.activate(context);
  assert.equal(seen.clients.length, 1);
  const [client] = seen.clients;
  assert.deepEqual(client.server, { command: "/opt/venv/bin/fluentai", args: ["lsp"], transport: 0 });
  assert.deepEqual(client.client.documentSelector.map((s) => s.language), ["fluentai", "fluentai"]);
  assert.ok(client.running);
  await extension.deactivate();
  assert.ok(!client.running);
});

test("the server's settings go to it at start and whenever they change", async () => {
  const { extension, seen, settings } = load({ serverPath: "fluentai" });
  settings.diagnosticsDelay = 50;
  settings.warnings = false;
  await extension.activate({ subscriptions: [] });
  const [client] = seen.clients;
  assert.deepEqual(client.client.initializationOptions, { diagnosticsDelay: 50, warnings: false });
  assert.deepEqual(client.client.synchronize, { configurationSection: "fluentai" });
  await extension.deactivate();
});

test("the default command is fluentai", async () => {
  const { extension, seen } = load({ serverPath: undefined });
  await extension.activate({ subscriptions: [] });
  assert.equal(seen.clients[0].server.command, "fluentai");
  await extension.deactivate();
});

test("a changed serverPath restarts the server with the new command", async () => {
  const { extension, seen, settings } = load({ serverPath: "fluentai" });
  await extension.activate({ subscriptions: [] });
  settings.serverPath = "/elsewhere/fluentai";
  const [listener] = seen.configListeners;
  await listener({ affectsConfiguration: (key) => key === "fluentai.serverPath" });
  assert.equal(seen.clients.length, 2);
  assert.ok(!seen.clients[0].running && seen.clients[1].running);
  assert.equal(seen.clients[1].server.command, "/elsewhere/fluentai");
  await listener({ affectsConfiguration: () => false }); // other settings: no restart
  assert.equal(seen.clients.length, 2);
  await extension.deactivate();
});

test("a server that cannot start is a warning naming the setting", async () => {
  const { extension, seen } = load({ serverPath: "fluentai", startFails: true });
  await extension.activate({ subscriptions: [] });
  assert.equal(seen.warnings.length, 1);
  assert.match(seen.warnings[0], /fluentai lsp.*ENOENT.*fluentai\.serverPath/);
  await extension.deactivate(); // nothing left to stop
});
