// What the tests of apps built from the npm package (Vite, webpack, Next.js) share: ports,
// commands, and stopping the servers they start.

import { execFile } from "node:child_process";
import { promisify } from "node:util";

export { freePort } from "./demo-pages.mjs";
export { stopProcess as stop } from "./harness.mjs";

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

