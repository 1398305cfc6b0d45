// Server memory with many devices connected: --devices N repos (in this process), each connected
// with its own WebSocket and holding the business's index document, stay connected while the
// server's resident memory is read from /proc. Prints {"devices", "server_rss_mib"}.
import { readFileSync } from "node:fs";
import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";
import { arg } from "./common.mjs";

const n = Number(arg("devices", "200"));
const rss = () => {
  const status = readFileSync(`/proc/${arg("pid")}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
};
const repos = [];
for (let i = 0; i < n; i++) {
  const repo = new Repo({ network: [new WebSocketClientAdapter(arg("url"))] });
  await repo.find(arg("index"));
  repos.push(repo);
}
await new Promise((ok) => setTimeout(ok, 2000));
console.log(JSON.stringify({ devices: n, server_rss_mib: rss() }));
await Promise.all(repos.map((r) => r.shutdown()));
process.exit(0);
