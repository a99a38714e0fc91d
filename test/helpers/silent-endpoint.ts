import { once } from 'node:events';
import * as net from 'node:net';

/**
 * An AWS endpoint that is reachable but never answers: it accepts each connection, reads the
 * request and says nothing, like a subnet whose route or security group swallows the traffic
 * after the handshake. Point SDK clients at it with AWS_ENDPOINT_URL.
 */
export class SilentEndpoint {
  private readonly sockets = new Set<net.Socket>();
  private constructor(private readonly server: net.Server) {}

  static async start(): Promise<SilentEndpoint> {
    const server = net.createServer();
    const endpoint = new SilentEndpoint(server);
    server.on('connection', (socket) => {
      endpoint.sockets.add(socket);
      socket.on('data', () => undefined);
      socket.on('error', () => undefined);
      socket.on('close', () => endpoint.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return endpoint;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
