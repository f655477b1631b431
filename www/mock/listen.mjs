// Shared by the mocks: start an http.Server on 127.0.0.1 (port 0: any free port) and resolve
// with its base URL. Keep-alive stays open longer than clients' idle timeouts, so a load test
// never races a closing socket.
export async function listen(server, port) {
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  server.keepAliveTimeout = 30_000;
  return `http://127.0.0.1:${server.address().port}`;
}
