import { EventEmitter, once } from 'node:events';
import * as net from 'node:net';

/**
 * A TCP listener in front of a PostgreSQL server that accepts connections at once but answers
 * them only after `open()`, as a paused Aurora Serverless v2 instance does while it resumes.
 * Until then each connection is held, unanswered; a client that gives up and closes it counts as
 * `abandoned`. Tests wait on these counts, never on time.
 */
export class LateListener {
  private readonly server: net.Server;
  /** Held connections and what their client sent so far (read, so that a close is seen). */
  private readonly held = new Map<net.Socket, Buffer[]>();
  private readonly sockets = new Set<net.Socket>();
  private readonly events = new EventEmitter();
  private opened = false;
  /** Connections the client closed while they were held. */
  abandoned = 0;

  private constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.opened) return this.forward(socket, []);
      const sent: Buffer[] = [];
      this.held.set(socket, sent);
      socket.on('data', (chunk: Buffer) => { if (this.held.has(socket)) sent.push(chunk); });
      socket.once('close', () => {
        if (!this.held.delete(socket)) return;
        this.abandoned += 1;
        this.events.emit('abandoned');
      });
    });
  }

  static async start(target: { host: string; port: number }): Promise<LateListener> {
    const listener = new LateListener(target);
    listener.server.listen(0, '127.0.0.1');
    await once(listener.server, 'listening');
    return listener;
  }

  get endpoint(): { host: string; port: number } {
    return { host: '127.0.0.1', port: (this.server.address() as net.AddressInfo).port };
  }

  /** Resolves once `n` held connections have been abandoned by their client. */
  async abandonedAtLeast(n: number): Promise<void> {
    while (this.abandoned < n) await once(this.events, 'abandoned');
  }

  /** From now on, connections reach the server: the held ones and every new one. */
  open(): void {
    this.opened = true;
    const held = [...this.held];
    this.held.clear();
    for (const [socket, sent] of held) this.forward(socket, sent);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(socket: net.Socket, sent: readonly Buffer[]): void {
    socket.removeAllListeners('data');
    const upstream = net.connect(this.target);
    for (const chunk of sent) upstream.write(chunk);
    this.sockets.add(upstream);
    upstream.on('close', () => { this.sockets.delete(upstream); socket.destroy(); });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
    socket.pipe(upstream).pipe(socket);
  }
}
