/**
 * Other test files stub `send()` on the AWS SDK client classes when mocha loads them
 * (aws-sdk-client-mock's mockClient), and re-stub it in their own hooks. A test that needs the
 * real SDK, over the network stack, takes the stubs off first.
 */
export function unstubbed(...clients: ReadonlyArray<{ prototype: { send: unknown } }>): void {
  for (const client of clients) {
    const send = client.prototype.send as { restore?: () => void };
    if (typeof send.restore === 'function') send.restore();
  }
}
