// The llmarch extension: the language (syntaxes/, language-configuration.json) is declared in
// package.json; this file starts the language server, `llmarch lsp`, over standard input and
// output and restarts it when its settings change.
"use strict";

const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverOptions() {
  const config = vscode.workspace.getConfiguration("llmarch");
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  // `${workspaceFolder}` in the settings: a virtual environment inside the project
  const expand = (text) => (folder ? text.split("${workspaceFolder}").join(folder.uri.fsPath) : text);
  const command = expand(config.get("server.command", "llmarch"));
  const args = config.get("server.args", ["lsp"]).map(expand);
  return { command, args, transport: TransportKind.stdio, options: { cwd: folder ? folder.uri.fsPath : undefined } };
}

async function start(context) {
  if (!vscode.workspace.getConfiguration("llmarch").get("server.enabled", true)) {
    return;
  }
  const options = serverOptions();
  client = new LanguageClient("llmarch", "llmarch", options, {
    documentSelector: [{ language: "llmarch" }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.llmarch") },
  });
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const hint = "Set `llmarch.server.command` to the llmarch program (e.g. `${workspaceFolder}/.venv/bin/llmarch`); " +
      "the server needs the `lsp` extra: pip install 'llmarch[lsp]'.";
    vscode.window.showErrorMessage(`llmarch: cannot start \`${options.command} ${options.args.join(" ")}\`: ` +
      `${error && error.message ? error.message : error}. ${hint}`);
  }
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("llmarch.restartServer", async () => {
      await stop();
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration("llmarch.server")) {
        await stop();
        await start(context);
      }
    }),
  );
  await start(context);
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
