// extension.js against stand-ins for `vscode` and `vscode-languageclient/node`: what it starts
// (the command, its arguments, stdio, the documents), when it restarts, what it says when the
// server cannot start. Run with `node --test tests/` (Node 18+; no packages needed).
"use strict";

const test = require("node:test");
const assert = require("node:assert");
const Module = require("node:module");
const path = require("node:path");

function load({ settings = {}, failStart = false } = {}) {
  const seen = { clients: [], errors: [], commands: {}, configListeners: [] };
  const vscode = {
    workspace: {
      workspaceFolders: [{ uri: { fsPath: "/projects/bot" } }],
      getConfiguration: (section) => {
        assert.strictEqual(section, "llmarch");
        return { get: (key, fallback) => (key in settings ? settings[key] : fallback) };
      },
      onDidChangeConfiguration: (listener) => { seen.configListeners.push(listener); return { dispose() {} }; },
      createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    },
    window: { showErrorMessage: (message) => seen.errors.push(message) },
    commands: { registerCommand: (name, run) => { seen.commands[name] = run; return { dispose() {} }; } },
  };
  class LanguageClient {
    constructor(id, name, serverOptions, clientOptions) {
      Object.assign(this, { id, name, serverOptions, clientOptions, started: false, stopped: false });
      seen.clients.push(this);
    }
    async start() {
      if (failStart) throw new Error("spawn llmarch ENOENT");
      this.started = true;
    }
    async stop() { this.stopped = true; }
  }
  const stand_ins = { vscode, "vscode-languageclient/node": { LanguageClient, TransportKind: { stdio: 0 } } };
  const original = Module._load;
  Module._load = function (request, ...rest) {
    return request in stand_ins ? stand_ins[request] : original.call(this, request, ...rest);
  };
  const file = path.join(__dirname, "..", "extension.js");
  delete require.cache[require.resolve(file)];
  try {
    return { extension: require(file), seen };
  } finally {
    Module._load = original;
  }
}

const context = () => ({ subscriptions: [] });

test("starts `llmarch lsp` over stdio for llmarch documents", async () => {
  const { extension, seen } = load();
  await extension.activate(context());
  assert.strictEqual(seen.clients.length, 1);
  const client = seen.clients[0];
  assert.deepStrictEqual([client.serverOptions.command, client.serverOptions.args], ["llmarch", ["lsp"]]);
  assert.strictEqual(client.serverOptions.transport, 0);
  assert.strictEqual(client.serverOptions.options.cwd, "/projects/bot");
  assert.deepStrictEqual(client.clientOptions.documentSelector, [{ language: "llmarch" }]);
  assert.strictEqual(client.clientOptions.synchronize.fileEvents.glob, "**/*.llmarch");
  assert.ok(client.started);
  assert.deepStrictEqual(seen.errors, []);
});

test("the command setting, with ${workspaceFolder} expanded", async () => {
  const { extension, seen } = load({ settings: {
    "server.command": "${workspaceFolder}/.venv/bin/python", "server.args": ["-m", "llmarch", "lsp"] } });
  await extension.activate(context());
  const { command, args } = seen.clients[0].serverOptions;
  assert.deepStrictEqual([command, args], ["/projects/bot/.venv/bin/python", ["-m", "llmarch", "lsp"]]);
});

test("disabled: highlighting only, no server", async () => {
  const { extension, seen } = load({ settings: { "server.enabled": false } });
  await extension.activate(context());
  assert.strictEqual(seen.clients.length, 0);
});

test("a changed server setting and the restart command restart the server", async () => {
  const { extension, seen } = load();
  await extension.activate(context());
  await seen.configListeners[0]({ affectsConfiguration: (section) => section === "llmarch.server" });
  assert.strictEqual(seen.clients.length, 2);
  assert.ok(seen.clients[0].stopped && seen.clients[1].started);
  await seen.configListeners[0]({ affectsConfiguration: () => false });   // another extension's setting
  assert.strictEqual(seen.clients.length, 2);
  await seen.commands["llmarch.restartServer"]();
  assert.strictEqual(seen.clients.length, 3);
  assert.ok(seen.clients[1].stopped && seen.clients[2].started);
  await extension.deactivate();
  assert.ok(seen.clients[2].stopped);
});

test("a server that cannot start: one message naming the command and the setting", async () => {
  const { extension, seen } = load({ failStart: true });
  await extension.activate(context());
  assert.strictEqual(seen.errors.length, 1);
  assert.match(seen.errors[0], /cannot start `llmarch lsp`: spawn llmarch ENOENT/);
  assert.match(seen.errors[0], /llmarch\.server\.command/);
  await extension.deactivate();   // nothing to stop
});
