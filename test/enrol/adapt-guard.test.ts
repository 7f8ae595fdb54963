/** The guard's arithmetic: patience over runs of hops, alarms with a refractory time, as the head detector decides. */
import t from 'tap';
import { countAlarms, firstAccepted, hoursOf, median, type GuardTry } from '../../src/enrol/adapt-guard.js';

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

t.test('the guard\'s tries: the bias is lowered only while false alarms alone refuse the head', async (t) => {
  const tried: number[] = [];
  /** A head whose alarms stop at bias step `quietAt` and that loses a held-out take from step `deafAt`. */
  const head = (quietAt: number, deafAt = Infinity) => (step: number): GuardTry<number> => {
    tried.push(step);
    const refusals = [...(step >= quietAt ? [] : ['false alarms']), ...(step >= deafAt ? ['recall'] : [])];
    return { figures: step, refusals, tooManyAlarms: step < quietAt };
  };
  const quiet = firstAccepted([0, 1, 2], head(0));
  t.same([quiet.step, quiet.refusals, tried.splice(0)], [0, [], [0]], 'accepted at once: no other try');
  const second = firstAccepted([0, 1, 2], head(1));
  t.same([second.step, second.refusals, tried.splice(0)], [1, [], [0, 1]], 'too many alarms, then quiet one step lower: kept');
  const never = firstAccepted([0, 1, 2], head(5));
  t.same([never.step, never.refusals, tried.splice(0)], [2, ['false alarms'], [0, 1, 2]], 'still too many at the last step: refused with its figures');
  const deaf = firstAccepted([0, 1, 2], head(2, 1));
  t.same([deaf.step, deaf.refusals, tried.splice(0)], [1, ['false alarms', 'recall'], [0, 1]], 'a step that also loses takes ends the tries: refused');
  t.throws(() => firstAccepted([], head(0)), RangeError);
});
