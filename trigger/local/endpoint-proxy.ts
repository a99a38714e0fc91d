/**
 * A TCP forwarder that plays the part of an Aurora cluster endpoint: a stable address whose
 * backing server can change. Aurora moves its writer (and reader) endpoint's DNS name to the new
 * writer on failover and the old connections break; {@link EndpointProxy.retarget} does the same
 * locally, so a failover drill exercises the worker's reconnect path exactly as in AWS.
 *
 * It costs a hop on every packet, so the local engine only puts it in front of the servers for
 * drills.
 */
import net from 'node:net';

export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

export class EndpointProxy {
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server, readonly port: number, private target: ProxyTarget) {}

  /** Listen on 127.0.0.1 (a free port unless given) and forward each connection to `target`. */
  static async start(target: ProxyTarget, port = 0): Promise<EndpointProxy> {
    let proxy: EndpointProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    proxy = new EndpointProxy(server, (server.address() as net.AddressInfo).port, target);
    return proxy;
  }

  get host(): string {
    return '127.0.0.1';
  }

  /** Point new connections at `target` and cut the existing ones, as a failover does. */
  retarget(target: ProxyTarget): void {
    this.target = target;
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
