import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../testing/fake-clock.js';
import { OwnLeaseEcho } from './own-lease-echo.js';

function setup() {
  const clock = new FakeClock();
  const log: string[] = [];
  const echo = new OwnLeaseEcho({
    clock,
    timeoutMs: 500,
    onStalled: () => log.push(`stalled@${clock.now()}`),
    onEchoed: () => log.push(`echoed@${clock.now()}`),
  });
  return { clock, echo, log };
}

describe('OwnLeaseEcho: a watch that stops carrying our own renewals is stale', () => {
  it('stays quiet while every renewal comes back in time', async () => {
    const { clock, echo, log } = setup();
    for (let i = 1; i <= 10; i++) {
      echo.wrote(String(i));
      await clock.advance(30);
      echo.seen(String(i));
      await clock.advance(470);
    }
    assert.deepEqual(log, []);
    assert.equal(echo.stalled, false);
  });

  it('declares the watch stalled one timeout after the oldest renewal that did not come back', async () => {
    const { clock, echo, log } = setup();
    echo.wrote('1');
    await clock.advance(499);
    assert.deepEqual(log, []);
    echo.wrote('2');
    await clock.advance(1);
    assert.deepEqual(log, ['stalled@500']);
    assert.equal(echo.stalled, true);
  });

  it('recovers when the echoes catch up, and an echo of a later write covers the earlier ones', async () => {
    const { clock, echo, log } = setup();
    echo.wrote('1');
    await clock.advance(500);
    echo.wrote('2');
    await clock.advance(100);
    echo.seen('2');
    assert.deepEqual(log, ['stalled@500', 'echoed@600']);
    assert.equal(echo.stalled, false);
  });

  it('counts an echo that arrived before the write’s own answer', async () => {
    const { clock, echo, log } = setup();
    echo.seen('7');
    echo.wrote('7');
    await clock.advance(1_000);
    assert.deepEqual(log, []);
  });

  it('ignores versions it did not write (someone else edited our lease)', async () => {
    const { clock, echo, log } = setup();
    echo.wrote('5');
    echo.seen('4');
    await clock.advance(500);
    assert.deepEqual(log, ['stalled@500']);
  });

  it('remembers a bounded number of renewals through a long stall and still recovers', async () => {
    const { clock, echo, log } = setup();
    for (let i = 1; i <= 1_000; i++) {
      echo.wrote(String(i));
      await clock.advance(500);
    }
    echo.seen('1000');
    assert.deepEqual(log, ['stalled@500', 'echoed@500000']);
  });
});
