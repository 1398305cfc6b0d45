// Idle reconnect: a device that already holds the whole business (the directory fresh.mjs
// filled) starts again, opens the index and every client from its own storage, as an app showing
// its client list does, and reconnects to a server with nothing new. Prints the time until the
// connection falls quiet and the bytes both ways. With --offline-edits N it first edits N clients
// with no network ("a day offline"), so the reconnect carries them.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { arg } from "./common.mjs";
import { bytes } from "./meter.mjs";

const offline = Number(arg("offline-edits", "0"));
if (offline > 0) {
  const alone = new Repo({ storage: new NodeFSStorageAdapter(arg("dir")), network: [] });
  const urls = (await alone.find(arg("index"))).doc().clients.slice(0, offline);
  for (const [i, u] of urls.entries()) {
    (await alone.find(u)).change((d) => {
      d.comment = `offline edit ${i}`;
    });
  }
  await alone.flush();
  await alone.shutdown();
}

const adapter = new WebSocketClientAdapter(arg("url"));
const repo = new Repo({ storage: new NodeFSStorageAdapter(arg("dir")), network: [adapter] });
const started = performance.now();
const index = await repo.find(arg("index"));
const urls = index.doc().clients;
await Promise.all(urls.map((u) => repo.find(u)));
// Quiet: connected, and no byte either way for two seconds. (Loading the documents keeps the
// event loop busy; the server may drop a connection that misses its pings meanwhile, and the
// adapter then reconnects: the bytes of every connection count.)
let last = performance.now();
let seen = -1;
for (;;) {
  const { read, written } = bytes();
  const now = read + written;
  if (now !== seen) {
    seen = now;
    last = performance.now();
  } else if (adapter.socket?.readyState === 1 && performance.now() - last > 2000) {
    break;
  }
  await new Promise((ok) => setTimeout(ok, 20));
}
const { read, written } = bytes();
console.log(JSON.stringify({ seconds: (last - started) / 1000, bytes_in: read, bytes_out: written }));
await repo.shutdown();
process.exit(0);
