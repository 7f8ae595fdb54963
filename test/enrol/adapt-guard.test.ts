/** The guard's arithmetic: patience over runs of hops, alarms with a refractory time, as the head detector decides. */
import t from 'tap';
import { countAlarms, hoursOf, median } from '../../src/enrol/adapt-guard.js';

t.test('alarms: runs at or above the threshold for the patience, once per refractory time', async (t) => {
  const hot = [0, 2, 2, 2, 2, 0, 2, 2, 2];
  t.equal(countAlarms(hot, [hot.length], 1, 3, 0), 3, 'no refractory time: every hop whose last 3 are hot');
  t.equal(countAlarms(hot, [hot.length], 1, 3, 1), 1, '1 s (13 hops) of refractory time: one');
  t.equal(countAlarms(hot, [5, 4], 1, 3, 1), 2, 'a new run (recording) starts its own refractory time');
  t.equal(countAlarms(hot, [hot.length], 1, 4, 0), 1, 'patience 4: only the first stretch lasts 4 hops');
  t.equal(countAlarms(hot, [hot.length], 3, 1, 0), 0, 'nothing reaches a higher threshold');
  t.equal(hoursOf(45_000), 1, '45,000 hops of 80 ms are an hour');
  t.equal(median([3, 1, 2]), 2);
  t.equal(median([0.5, 2, 1, 4]), 1.5);
});
