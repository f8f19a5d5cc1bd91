// The raw baseline: the browser's WebSocket speaking Engine.IO v4 / Socket.IO v5 by hand, with
// JSON.parse and JSON.stringify, namespace "/" only. The ceiling for any client on this server.
export function io(url, _opts) {
  return new RawSocket(url);
}

class RawSocket {
  constructor(url) {
    const u = new URL(url);
    this.connected = false;
    this.l = new Map();
    this.acks = new Map();
    this.nextId = 0;
    const ws = (this.ws = new WebSocket(
      u.protocol.replace(/^http/, "ws") + "//" + u.host + "/socket.io/?EIO=4&transport=websocket",
    ));
    ws.onmessage = ({ data: d }) => {
      const c = d.charCodeAt(0);
      if (c === 52 /* 4 message */) {
        const t = d.charCodeAt(1);
        if (t === 50 /* 2 event */ || t === 51 /* 3 ack */) {
          let i = 2;
          while (i < d.length && d.charCodeAt(i) >= 48 && d.charCodeAt(i) <= 57) i++;
          const args = JSON.parse(i === 2 ? d.slice(2) : d.slice(i));
          if (t === 50) {
            if (i > 2) {
              const id = d.slice(2, i);
              args.push((...r) => ws.send("43" + id + JSON.stringify(r)));
            }
            const fns = this.l.get(args[0]);
            if (fns) for (const f of fns) f.apply(this, args.slice(1));
          } else {
            const id = +d.slice(2, i);
            const f = this.acks.get(id);
            if (f) {
              this.acks.delete(id);
              f.apply(this, args);
            }
          }
        } else if (t === 48 /* 0 connect */) {
          this.id = JSON.parse(d.slice(2)).sid;
          this.connected = true;
          this.fire("connect");
        } else if (t === 49 /* 1 disconnect */) {
          this.connected = false;
          this.fire("disconnect", "io server disconnect");
        }
      } else if (c === 50 /* 2 ping */) ws.send("3");
      else if (c === 48 /* 0 open */) ws.send("40");
    };
    ws.onclose = () => {
      if (this.connected) {
        this.connected = false;
        this.fire("disconnect", "transport close");
      }
    };
  }
  fire(ev, ...a) {
    const fns = this.l.get(ev);
    if (fns) for (const f of fns.slice()) f.apply(this, a);
  }
  on(ev, f) {
    const fns = this.l.get(ev);
    if (fns) fns.push(f);
    else this.l.set(ev, [f]);
    return this;
  }
  off(ev, f) {
    const fns = this.l.get(ev);
    if (fns) {
      const i = fns.indexOf(f);
      if (i >= 0) fns.splice(i, 1);
    }
    return this;
  }
  emit(ev, ...args) {
    let head = "42";
    if (typeof args[args.length - 1] === "function") {
      const id = this.nextId++;
      this.acks.set(id, args.pop());
      head += id;
    }
    this.ws.send(head + JSON.stringify([ev, ...args]));
    return this;
  }
  emitWithAck(ev, ...args) {
    return new Promise((res) => this.emit(ev, ...args, res));
  }
  disconnect() {
    if (this.ws.readyState === 1) this.ws.send("41");
    this.ws.close();
    this.connected = false;
    this.acks.clear();
    return this;
  }
}
