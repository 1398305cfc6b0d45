// automerge-repo's sync server on loopback: a WebSocket server adapter and Node filesystem
// storage, as its documentation sets one up. With --seed N it first creates the business (N
// client documents and an index) in its own storage, as if devices had pushed them.
// Prints one JSON line when listening: {"port", "index", "pid"}.
import { Repo } from "@automerge/automerge-repo";
import { NodeWSServerAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { WebSocketServer } from "ws";
import { arg, client, rng } from "./common.mjs";

const dir = arg("dir");
const seed = Number(arg("seed", "0"));
const visits = Number(arg("visits", "10"));
const storage = new NodeFSStorageAdapter(dir);

let index = arg("index", null);
if (seed > 0) {
  // In batches, each with a repo of its own: one repo creating 10,000 documents took 28 times
  // as long as 1,000 (its handles and pending saves pile up), and seeding is setup, not a figure.
  const r = rng(7);
  const urls = [];
  for (let start = 0; start < seed; start += 1000) {
    const repo = new Repo({ storage: new NodeFSStorageAdapter(dir), network: [] });
    for (let i = start; i < Math.min(seed, start + 1000); i++) {
      urls.push(repo.create(client(i, visits, r)).url);
    }
    await repo.flush();
    await repo.shutdown();
  }
  const repo = new Repo({ storage: new NodeFSStorageAdapter(dir), network: [] });
  index = repo.create({ clients: urls }).url;
  await repo.flush();
  await repo.shutdown();
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(arg("port", "0")) });
await new Promise((ok) => wss.on("listening", ok));
// A server answers what devices ask for and keeps what they send; it volunteers nothing.
new Repo({ storage, network: [new NodeWSServerAdapter(wss)], sharePolicy: async () => false });
console.log(JSON.stringify({ port: wss.address().port, index, pid: process.pid }));
process.on("SIGTERM", () => process.exit(0));
