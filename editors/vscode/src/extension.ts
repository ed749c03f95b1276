// The critlang extension's client: starts `critlang lsp` (or the command in the setting
// `critlang.server.command`) over stdio for `*.crit` files, and restarts it when the setting changes.
import * as os from "os";
import * as path from "path";
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

const DEFAULT_COMMAND = ["critlang", "lsp"];

let client: LanguageClient | undefined;
let outputChannel: vscode.OutputChannel | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  outputChannel = vscode.window.createOutputChannel("critlang");
  context.subscriptions.push(outputChannel);
  context.subscriptions.push(
    vscode.commands.registerCommand("critlang.restartServer", () => restart()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("critlang.server")) {
        void restart();
      }
    }),
  );
  await start();
}

export async function deactivate(): Promise<void> {
  await stop();
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function stop(): Promise<void> {
  const running = client;
  client = undefined;
  if (running !== undefined) {
    try {
      await running.stop();
    } catch {
      // it had not started, or it has already exited
    }
  }
}

async function start(): Promise<void> {
  const configuration = vscode.workspace.getConfiguration("critlang");
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const command = serverCommand(configuration.get<unknown>("server.command"), folder);
  const [program, ...args] = command;
  // The folder is the working directory, so a relative program (".venv/bin/critlang") is the
  // workspace's own.
  const serverOptions: ServerOptions = {
    command: program,
    args,
    transport: TransportKind.stdio,
    options: folder !== undefined ? { cwd: folder } : {},
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "critlang" },
      { scheme: "untitled", language: "critlang" },
    ],
    initializationOptions: configuration.get<object>("server.initializationOptions") ?? {},
    outputChannel,
    traceOutputChannel: outputChannel,
  };
  const created = new LanguageClient("critlang", "critlang language server", serverOptions, clientOptions);
  client = created;
  try {
    await created.start();
  } catch (error) {
    if (client === created) {
      client = undefined;
    }
    const reason = error instanceof Error ? error.message : String(error);
    outputChannel?.appendLine(`could not start ${command.join(" ")}: ${reason}`);
    const choice = await vscode.window.showErrorMessage(
      `critlang: the language server (${command.join(" ")}) did not start: ${reason}. ` +
        "Install it with `pip install 'critlang[lsp]'`, or set `critlang.server.command` " +
        "to the critlang executable of your virtual environment.",
      "Open Settings",
      "Show Output",
    );
    if (choice === "Open Settings") {
      await vscode.commands.executeCommand("workbench.action.openSettings", "critlang.server.command");
    } else if (choice === "Show Output") {
      outputChannel?.show();
    }
  }
}

/** The command from the setting, with `~`, `${userHome}` and `${workspaceFolder}` expanded. */
export function serverCommand(setting: unknown, folder: string | undefined): string[] {
  const words =
    Array.isArray(setting) && setting.length > 0 && setting.every((word) => typeof word === "string")
      ? (setting as string[])
      : DEFAULT_COMMAND;
  return words.map((word, index) => {
    let expanded = word.replace(/\$\{userHome\}/g, os.homedir());
    if (folder !== undefined) {
      expanded = expanded.replace(/\$\{workspaceFolder\}/g, folder);
    }
    if (index === 0 && (expanded === "~" || expanded.startsWith("~/"))) {
      expanded = path.join(os.homedir(), expanded.slice(1));
    }
    return expanded;
  });
}
