// A fresh device: an empty repo with its own storage connects to the server and fetches the
// index and every client document. Prints {"seconds", "bytes_in", "bytes_out", "docs"}.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { arg } from "./common.mjs";
import { bytes } from "./meter.mjs";

const adapter = new WebSocketClientAdapter(arg("url"));
const repo = new Repo({ storage: new NodeFSStorageAdapter(arg("dir")), network: [adapter] });
const started = performance.now();
const index = await repo.find(arg("index"));
const urls = index.doc().clients;
const width = Number(arg("concurrency", "256"));
let next = 0;
async function worker() {
  while (next < urls.length) {
    const url = urls[next++];
    await repo.find(url);
  }
}
await Promise.all(Array.from({ length: width }, worker));
await repo.flush();
const seconds = (performance.now() - started) / 1000;
const { read, written } = bytes();
console.log(JSON.stringify({ seconds, bytes_in: read, bytes_out: written, docs: urls.length + 1 }));
await repo.shutdown();
process.exit(0);
