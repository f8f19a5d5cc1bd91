// The faults of a chaos run. Each draws its parameters from the lane's generator, does its
// harm, waits, and undoes it; it resolves with what it did (`ms`: how long it lasted;
// `pageWide`: it hit every client of the page, not only those of one server).

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const between = (random, lo, hi) => Math.round(lo + random() * (hi - lo));

export const FAULTS = {
  // A reset of every open connection.
  cut: async (lane, r, proxy) => {
    proxy.cut();
    return {};
  },
  // Nothing gets through and nobody is told; what was sent is held, as TCP retransmits it,
  // and goes on when the network heals (unless a side gave up and closed meanwhile).
  blackhole: async (lane, r, proxy) => {
    const ms = between(r, 300, 5000);
    proxy.partition();
    await sleep(ms);
    proxy.restore();
    return { ms };
  },
  // A path that dies silently (a NAT or a load balancer forgets the connection): what is sent
  // is lost, and when the network answers again it answers with resets.
  dead: async (lane, r, proxy) => {
    const ms = between(r, 300, 5000);
    proxy.blackhole();
    await sleep(ms);
    proxy.cut();
    proxy.restore();
    return { ms };
  },
  latency: async (lane, r, proxy) => {
    const ms = between(r, 20, 250);
    const jitter = between(r, 0, 150);
    const hold = between(r, 1000, 6000);
    proxy.latency(ms, jitter);
    await sleep(hold);
    proxy.restore();
    return { ms: hold, latency: ms, jitter };
  },
  throttle: async (lane, r, proxy) => {
    const bps = between(r, 16_000, 100_000);
    const hold = between(r, 1000, 6000);
    proxy.throttle(bps);
    await sleep(hold);
    proxy.restore();
    return { ms: hold, bps };
  },
  // The server is killed (SIGKILL) and comes back on the same port.
  kill: async (lane, r, proxy, server) => {
    const ms = between(r, 200, 3000);
    await server.server.kill();
    await sleep(ms);
    // Its port is free while it is down: should something take it meanwhile, try again.
    for (let tries = 1; ; tries++) {
      try {
        await server.server.restart();
        break;
      } catch (err) {
        if (tries == 5) throw err;
        await sleep(500);
      }
    }
    return { ms };
  },
  // The browser goes offline (Chromium's network emulation, the page's `offline` event).
  offline: async (lane, r) => {
    const ms = between(r, 300, 3000);
    await lane.context.setOffline(true);
    await sleep(ms);
    await lane.context.setOffline(false);
    return { ms, pageWide: true };
  },
  // The page goes to the background: hidden, then frozen (no script runs, as a throttled or
  // frozen background tab), then shown again.
  hidden: async (lane, r) => {
    const ms = between(r, 300, 6000);
    await lane.page.evaluate(() => chaos.hide());
    lane.frozen = true;
    // The page stops at its next statement (its timers run all the time); disabling the
    // debugger resumes it, and drops the request if nothing ran meanwhile.
    await lane.cdp.send("Debugger.enable");
    await lane.cdp.send("Debugger.pause");
    await sleep(ms);
    await lane.cdp.send("Debugger.disable");
    lane.frozen = false;
    await lane.page.evaluate(() => chaos.show());
    return { ms, pageWide: true };
  },
  // An upgrade cut short: the WebSocket's handshake is held, the link is cut so that the client
  // reconnects over polling and probes, and cut again while the probe waits.
  "upgrade-cut": async (lane, r, proxy) => {
    const ms = between(r, 300, 900);
    proxy.delayWebSocket(1500);
    proxy.cut();
    await sleep(between(r, 400, 800));
    proxy.cut();
    await sleep(ms);
    proxy.delayWebSocket(0);
    return { ms };
  },
};

/** Faults that may take a connection down (each may make one reconnect). */
export const BREAKING = new Set(["cut", "blackhole", "dead", "kill", "offline", "hidden", "upgrade-cut"]);

