/**
 * The machine's HTTP ceiling for bench/cluster.bench.ts: uWebSockets.js answering every request at
 * once with a 100-byte body, no Raft, no storage, no routing. Whatever wrk reaches against it on
 * these cores bounds what any HTTP server here can reach, ours included; the bench prints our
 * reads beside it. Prints its port on stdout.
 */
import uWS from 'uWebSockets.js';

const body = Buffer.alloc(100, 120);
uWS
  .App()
  .any('/*', (res) => {
    res.writeStatus('200 OK').writeHeader('content-type', 'application/octet-stream').end(body);
  })
  .listen('127.0.0.1', 0, (socket) => {
    if (!socket) process.exit(1);
    console.log(uWS.us_socket_local_port(socket));
  });
