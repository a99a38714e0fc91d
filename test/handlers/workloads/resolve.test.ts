import { expect } from 'chai';
import { InvalidMessageError } from '../../../handlers/protocol/message';
import { buildCatalog } from '../../../handlers/workloads/catalog';
import { checkInit, messageContext, scriptFor, workloadFor } from '../../../handlers/workloads/resolve';

const CATALOG = buildCatalog({
  'shop/init.sql': 'CREATE TABLE IF NOT EXISTS item (id int PRIMARY KEY, stock int);',
  'shop/lookup.sql': 'SELECT * FROM item WHERE id = 1;',
  'shop/buy.sql': 'UPDATE item SET stock = stock - 1 WHERE id = 1;',
  'bare/ping.sql': 'SELECT 1;',
  'tpcb/select-only.sql': 'SELECT 1;',
});
const shop = CATALOG.get('shop')!;
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(InvalidMessageError);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('a message\'s workload and scripts on this worker', () => {
  it('refuses an unknown workload, naming the ones this worker has', () => {
    expect(refusal(() => workloadFor(CATALOG, 'nope'))).to.equal('unknown workload "nope" (this worker has: bare, shop, tpcb): deploy the current workloads/ first');
  });

  it('refuses a script the workload does not have, naming the ones it has', () => {
    expect(refusal(() => scriptFor(CATALOG, 'shop', 'search', 'x'))).to.equal('workload shop has no script "search" on this worker (it has: buy, lookup): deploy the current workloads/ first');
  });

  it('refuses a script whose text is not the one the message was planned for', () => {
    const hash = shop.scripts.get('buy')!.hash;
    expect(refusal(() => scriptFor(CATALOG, 'shop', 'buy', '0123456789abcdef'))).to.equal(
      `workloads/shop/buy.sql on this worker has content hash ${hash}, the message was planned for 0123456789abcdef: deploy the scripts you planned with (git push), or plan from the commit this worker was built from`,
    );
    expect(scriptFor(CATALOG, 'shop', 'buy', hash).file).to.equal('workloads/shop/buy.sql');
  });

  it('runs an init only with the init.sql it was planned for', () => {
    expect(refusal(() => checkInit(CATALOG, { workload: 'shop', hash: '0123456789abcdef' }))).to.equal(
      `workloads/shop/init.sql on this worker has content hash ${shop.init!.hash}, the message was planned for 0123456789abcdef: deploy the current workloads/ first`,
    );
    expect(refusal(() => checkInit(CATALOG, { workload: 'bare', hash: '0123456789abcdef' }))).to.equal(
      'workloads/bare/init.sql on this worker does not exist, the message was planned for 0123456789abcdef: deploy the current workloads/ first',
    );
    expect(checkInit(CATALOG, { workload: 'shop', hash: shop.init!.hash }).name).to.equal('shop');
    expect(checkInit(CATALOG, { workload: 'bare' }).name).to.equal('bare');
  });

  it('refuses init --reset for a script workload, and takes it for tpcb', () => {
    expect(refusal(() => checkInit(CATALOG, { workload: 'shop', reset: true }))).to.equal(
      'init --reset is for tpcb only: shop\'s init.sql is idempotent, and the worker drops no table it cannot prove it created (drop them yourself to start over)',
    );
    expect(checkInit(CATALOG, { workload: 'tpcb', reset: true }).name).to.equal('tpcb');
    expect(checkInit(CATALOG, { workload: 'shop', reset: false }).name).to.equal('shop');
  });
});

describe('a message\'s variables and random draws', () => {
  it('starts with pgbench\'s built-ins: :client_id, :random_seed and :default_seed', () => {
    const { variables } = messageContext({ seq: 0, randomSeed: '42', clientId: 3 });
    // :default_seed of seed 42 is pgbench's (test/handlers/workloads/expr.test.ts).
    expect(['client_id', 'random_seed', 'default_seed'].map((n) => variables.text(n))).to.deep.equal(['3', '42', '4306334408478191133']);
    expect(messageContext({ seq: 0, randomSeed: '42' }).variables.text('client_id')).to.equal('0');
  });

  it('reads a seed above 2^63 as pgbench does: :random_seed wraps to a signed 64-bit integer', () => {
    expect(messageContext({ seq: 0, randomSeed: '18446744073709551615' }).variables.text('random_seed')).to.equal('-1');
  });

  it('lets -D values override the built-ins, as pgbench does', () => {
    const { variables } = messageContext({ seq: 0, randomSeed: '42', clientId: 3, vars: { client_id: '7', maxid: '10' } });
    expect([variables.text('client_id'), variables.text('maxid')]).to.deep.equal(['7', '10']);
  });

  it('draws the same numbers for the same seed and message, and others for another message', () => {
    const draws = (seq: number, randomSeed?: string): bigint[] => {
      const { rng } = messageContext({ seq, ...(randomSeed === undefined ? {} : { randomSeed }) });
      return [rng.uint64(), rng.uint64()];
    };
    expect(draws(0, '42')).to.deep.equal(draws(0, '42'));
    expect(draws(1, '42')).to.not.deep.equal(draws(0, '42'));
    // No seed: a fresh one per message.
    expect(draws(0)).to.not.deep.equal(draws(0));
  });
});
