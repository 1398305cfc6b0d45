// One edit on device A seen on device B, through the server: both devices hold the same 100
// clients (found through the server); A changes a comment, B waits for it. Prints latency
// p50/p99 over --edits edits and the bytes on both devices' sockets per edit.
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { NodeFSStorageAdapter } from "@automerge/automerge-repo-storage-nodefs";
import { arg } from "./common.mjs";
import { bytes } from "./meter.mjs";

function device(dir) {
  const adapter = new WebSocketClientAdapter(arg("url"));
  const repo = new Repo({ storage: new NodeFSStorageAdapter(dir), network: [adapter] });
  return { adapter, repo };
}
const a = device(arg("dir") + "/a");
const b = device(arg("dir") + "/b");
const urls = (await a.repo.find(arg("index"))).doc().clients.slice(0, 100);
const ha = await Promise.all(urls.map((u) => a.repo.find(u)));
const hb = await Promise.all(urls.map((u) => b.repo.find(u)));
// Let the first syncs settle before measuring.
await new Promise((ok) => setTimeout(ok, 1000));

const edits = Number(arg("edits", "200"));
const times = [];
const before = bytes();
for (let i = 0; i < edits; i++) {
  const k = i % urls.length;
  const text = `edit ${i}`;
  const seen = new Promise((ok) => {
    const on = ({ doc }) => {
      if (doc.comment === text) {
        hb[k].off("change", on);
        ok();
      }
    };
    hb[k].on("change", on);
  });
  const t = performance.now();
  ha[k].change((d) => {
    d.comment = text;
  });
  await seen;
  times.push(performance.now() - t);
}
times.sort((x, y) => x - y);
const at = (q) => times[Math.round((times.length - 1) * q)];
console.log(JSON.stringify({
  p50_ms: at(0.5),
  p99_ms: at(0.99),
  // Both devices' sockets, both ways: A's push and its acknowledgement, B's delivery.
  bytes_per_edit: (bytes().read + bytes().written - before.read - before.written) / edits,
}));
await Promise.all([a.repo.shutdown(), b.repo.shutdown()]);
process.exit(0);
