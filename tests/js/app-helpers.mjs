// What the tests of apps built from the npm package (Vite, webpack, Next.js) share: ports,
// commands, and stopping the servers they start.

import { execFile } from "node:child_process";
import { promisify } from "node:util";

export { freePort } from "./demo-pages.mjs";

const run = promisify(execFile);

/** npm's command. */
export const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

/**
 * Runs `cmd args` in `cwd` (with `env` added to the environment, colours off), failing with
 * its output after `timeout` ms; returns stdout.
 */
export async function sh(cwd, cmd, args, { timeout = 240_000, env = {} } = {}) {
  try {
    const { stdout } = await run(cmd, args, { cwd, timeout, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: "1", ...env } });
    return stdout;
  } catch (err) {
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd}:\n${err.stdout || ""}\n${err.stderr || err.message}`);
  }
}

/** Stops a child process by its PID: SIGTERM, then SIGKILL after 5 s. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(t);
}
