import t from 'tap';
import { EventEmitter } from 'node:events';
import { Lifecycle } from '../../src/daemon/lifecycle.js';
import type { Logger } from '../../src/log.js';

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, debug() {}, info() {}, warn() {}, error: (m, f) => { errors.push(`${m} ${JSON.stringify(f)}`); } };
}

t.test('parts start in order and stop in reverse; a failing stop is logged and the rest still stop', async (t) => {
  const logger = recordingLogger();
  const life = new Lifecycle(logger);
  const events: string[] = [];
  for (const name of ['model', 'publisher', 'source']) {
    await life.start({
      name,
      start: () => { events.push(`start ${name}`); },
      stop: async () => {
        events.push(`stop ${name}`);
        if (name === 'publisher') throw new Error('ENOSPC: no space left on device');
      },
    });
  }
  t.same(life.parts, ['model', 'publisher', 'source']);
  const failed = await life.stopAll();
  t.same(events, ['start model', 'start publisher', 'start source', 'stop source', 'stop publisher', 'stop model']);
  t.same(failed, ['publisher']);
  t.match(logger.errors.join('\n'), /stopping publisher failed; stopping the rest .*ENOSPC: no space left on device/);
  t.same(await life.stopAll(), [], 'a second stop has nothing left to do');
  await t.rejects(life.start({ name: 'late', start: () => undefined }), /cannot start late: stopping/);
});

t.test('each part\'s listeners are removed once it has stopped, and only its own', async (t) => {
  const life = new Lifecycle(recordingLogger());
  const source = new EventEmitter<{ data: [number]; end: [] }>();
  const seen: number[] = [];
  let listenersDuringStop = -1;
  source.on('data', () => undefined); // someone else's
  await life.start({
    name: 'listener',
    start: (listen) => {
      listen(source, 'data', (n: number) => seen.push(n));
      listen(source, 'end', () => undefined);
    },
    stop: () => { listenersDuringStop = source.listenerCount('data'); },
  });
  source.emit('data', 1);
  t.equal(source.listenerCount('data'), 2);
  await life.stopAll();
  t.equal(listenersDuringStop, 2, 'still listening while it stops (it may flush)');
  source.emit('data', 2);
  t.same(seen, [1], 'nothing heard after its stop');
  t.equal(source.listenerCount('data'), 1, 'the other listener stays');
  t.equal(source.listenerCount('end'), 0);
});

t.test('a part whose start fails is still stopped, so what it had begun is released', async (t) => {
  const life = new Lifecycle(recordingLogger());
  const events: string[] = [];
  await life.start({ name: 'model', start: () => undefined, stop: () => { events.push('stop model'); } });
  const emitter = new EventEmitter<{ x: [] }>();
  await t.rejects(life.start({
    name: 'publisher',
    start: async (listen) => {
      listen(emitter, 'x', () => undefined);
      throw new Error('state directory /x is not writable');
    },
    stop: () => { events.push('stop publisher'); },
  }), /not writable/);
  await life.stopAll();
  t.same(events, ['stop publisher', 'stop model']);
  t.equal(emitter.listenerCount('x'), 0);
});
