/**
 * A TCP forwarder that plays the part of an Aurora cluster endpoint: a stable address whose
 * backing server can change. Aurora moves its writer (and reader) endpoint's DNS name to the new
 * writer on failover and the old connections break; {@link EndpointProxy.retarget} does the same
 * locally, so a failover drill exercises the worker's reconnect path exactly as in AWS.
 *
 * {@link EndpointProxy.silence} plays a server that stops answering without closing anything (a
 * hung host, a network that drops packets; SIGSTOP of the server does the same): connections stay
 * open, bytes sent are held, nothing comes back, and new connections are accepted but never
 * answered, until {@link EndpointProxy.unsilence} lets it all through, late.
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
  private readonly links = new Set<{ client: net.Socket; upstream: net.Socket }>();
  /** Clients accepted while silent, not yet connected onwards. */
  private readonly held = new Set<net.Socket>();
  private silent = false;

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

  /** Stop answering: hold every byte both ways and every new connection, closing nothing. */
  silence(): void {
    this.silent = true;
    for (const { client, upstream } of this.links) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  /** Answer again: what was held goes through, held connections are connected onwards. */
  unsilence(): void {
    if (!this.silent) return;
    this.silent = false;
    for (const { client, upstream } of this.links) {
      client.pipe(upstream);
      upstream.pipe(client);
    }
    const held = [...this.held];
    this.held.clear();
    for (const client of held) if (!client.destroyed) this.connect(client);
  }

  async close(): Promise<void> {
    for (const s of [...this.sockets, ...this.held]) s.destroy();
    this.held.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.silent) {
      // Accepted (the kernel of a hung server does that too) and never answered.
      client.pause();
      this.held.add(client);
      client.on('error', () => client.destroy()).on('close', () => this.held.delete(client));
      return;
    }
    this.connect(client);
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const link = { client, upstream };
    this.links.add(link);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.links.delete(link);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    if (this.silent) {
      client.pause();
      upstream.pause();
    } else {
      client.pipe(upstream);
      upstream.pipe(client);
    }
  }
}
