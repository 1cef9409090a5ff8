import t from 'tap';
import { createReplayCache } from '../../../src/auth/replay-cache.js';

t.test('an entry is remembered until its expiry, then forgotten', async (t) => {
  let clock = 1_000_000_000_000;
  const c = createReplayCache(10, 60, () => clock);
  const expiresS = clock / 1000 + 30;
  t.equal(c.admit('a', expiresS), 'ok');
  t.equal(c.admit('a', expiresS), 'seen');
  clock += 30_000;
  t.equal(c.admit('a', expiresS), 'seen', 'still remembered at its expiry (a margin covers the clock read)');
  clock += 1_001;
  t.equal(c.admit('a', expiresS + 100), 'ok', 'forgotten after it');
});

t.test('full: an expired eviction candidate goes, a live one refuses the newcomer', async (t) => {
  let clock = 1_000_000_000_000;
  const c = createReplayCache(2, 60, () => clock);
  const s = clock / 1000;
  t.equal(c.admit('short', s + 5), 'ok');
  t.equal(c.admit('long', s + 60), 'ok');
  t.equal(c.admit('third', s + 60), 'full', 'the oldest entry is live');
  t.equal(c.size(), 2);
  clock += 7_000;
  t.equal(c.admit('third', s + 60), 'ok', 'the oldest entry expired and made room');
  t.equal(c.admit('long', s + 60), 'seen', 'the live entry was kept');
  t.equal(c.admit('fourth', s + 60), 'full');
  t.equal(c.size(), 2);
});
