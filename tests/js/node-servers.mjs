// Test servers run as child processes from plain-Node tests: started with their arguments,
// ready once they print `LISTENING http://127.0.0.1:<port>`, stopped by PID in `after` (and
// killed if the test process exits first); and the small HTTP JSON helpers the tests share.

import { after } from "node:test";
import { spawn } from "node:child_process";

export const WAIT_MS = 3_000;
export const START_MS = 10_000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Servers, each a child process stopped by PID in `after`.

const children = new Set();

// Starts `command` with `args`; resolves once it printed its LISTENING line with { url, port,
// child, stdout(), stderr() }. `hint` is added to the error when the command cannot start.
export function launch(command, args, hint = "") {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    children.add(child);
    child.on("exit", () => children.delete(child));
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no LISTENING line within ${START_MS} ms\n${err}`));
    }, START_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot start ${command}: ${e.message}${hint}`));
    });
    child.stderr.on("data", (d) => (err = (err + d).slice(-8000)));
    child.stdout.on("data", (d) => {
      out += d;
      const m = /^LISTENING (http:\/\/127\.0\.0\.1:(\d+))\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], port: Number(m[2]), child, stdout: () => out, stderr: () => err });
      }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal})\n${err}`));
    });
  });
}

// Runs `command` with `args` and no output to its end; resolves with its exit code (SIGKILL after
// START_MS).
export function exitCode(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "ignore" });
    children.add(child);
    const timer = setTimeout(() => child.kill("SIGKILL"), START_MS);
    child.on("exit", (c) => {
      clearTimeout(timer);
      children.delete(child);
      resolve(c);
    });
  });
}

// Ends a server by its PID with `signal` and resolves with its exit code (SIGKILL after 5 s).
export function stop(child, signal = "SIGTERM") {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    process.kill(child.pid, signal);
  });
}

after(async () => {
  await Promise.all([...children].map((c) => stop(c)));
});
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL");
});

// ---------------------------------------------------------------------------------------------
// HTTP

// POSTs `body` (JSON, or a string as it is); resolves with { status, headers, body (parsed) }.
export async function post(base, route, body, headers = {}) {
  const res = await fetch(base + route, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
}
