// Node's net module echo server, for comparison. Usage: node node_server.mjs
// (prints the port on stdout).
import net from "node:net";

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.pipe(socket);
  socket.on("error", () => socket.destroy());
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
