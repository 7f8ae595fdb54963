"""Training text: vocabulary terms in natural contexts, general sentences, and near-miss negatives.

Writes WORK/text/{domain,general,nearmiss}.txt. Deterministic (seeded).
"""
import csv
import os
import random
import re

from common import REPO, SHARED, WORK, ensure_dir, words_to_phones

COMPONENTS = """bearing|gearbox|impeller|coupling|shaft seal|belt|pulley|valve|compressor|conveyor|
hydraulic pump|motor|fan|blower|turbine|boiler|chiller|condenser|evaporator|spindle|rotor|stator|
piston|cylinder|crankshaft|camshaft|sprocket|chain|roller|idler|gasket|flange|pipe|hose|nozzle|
filter|strainer|heat exchanger|cooling tower|generator|alternator|transformer|circuit breaker|
contactor|relay|inverter|drive shaft|bushing|journal bearing|thrust bearing|ball bearing|
mechanical seal|packing gland|diaphragm|actuator|solenoid valve|check valve|relief valve|
gate valve|agitator|mixer|crusher|grinder|press|extruder|exhaust fan|feed pump|vacuum pump|
screw compressor|reciprocating compressor|centrifugal pump|oil pump|lubrication system|
gear reducer|worm gear|pinion|clutch|brake|flywheel|tensioner""".replace('\n', '').split('|')
CONDITIONS = """overheating|cavitation|misalignment|imbalance|excessive vibration|oil leak|corrosion|seized|
worn|knocking|grinding noise|squealing|rattling|leaking|loose|cracked|broken|clogged|blocked|
overloaded|under lubricated|over lubricated|contaminated|eroded|pitting|spalling|fatigue|
looseness|resonance|high temperature|low pressure|high pressure|pressure drop|air leak|steam leak|
water leak|coolant leak|hydraulic leak|noisy|humming|whining|chattering|slipping|stalled|jammed|
tripped|short circuit|ground fault|arcing|burning smell|smoke|sparks|scoring|wear|backlash|
bent shaft|soft foot|belt slip|bearing failure|seal failure|lubricant starvation|dry running|
surge|flow restriction|air lock|vapor lock|water hammer|bearing noise|abnormal noise""".replace('\n', '').split('|')
ACTIONS = """shut down|lockout|tag out|emergency stop|stop the line|isolate|replace|inspect|tighten|
realign|rebalance|lubricate|grease|clean|flush|bleed|drain|reset|restart|call maintenance|
evacuate|check the oil|change the filter|torque|calibrate""".replace('\n', '').split('|')
NEAR_MISSES = ['bear in', 'bearings of the story', 'boring', 'leakage of information', 'oil lamp',
               'a leaky faucet at home', 'gear up for the weekend', 'vibrant colours', 'sealed envelope',
               'pump up the volume', 'the valve of the heart', 'a seized opportunity', 'worn out from work',
               'the belt of the galaxy', 'coupling of ideas', 'cavity in a tooth', 'alignment of planets',
               'balance the budget', 'shaft of light', 'knock on the door', 'grind the coffee',
               'a leak to the press', 'the motor skills of children', 'fan of the team',
               'corrosive remarks', 'hot temperature outside', 'pressure at work', 'chain of command',
               'a rotor of ideas', 'the press conference', 'stop by later', 'shut the door']
TEMPLATES = [
    'the {c} is {x}', 'there is {x} on the {c}', 'check the {c} for {x}', 'we have {x} at the {c}',
    'i hear {x} from the {c}', '{x} on pump {n}', 'the {c} on line {n} shows {x}', '{a} the {c} now',
    'please {a} the {c}', '{a} because of {x}', 'the {c} sounds like {x}', 'possible {x} in the {c}',
    'report {x} at station {n}', 'the {c} has been {x} since {t}', '{x}', '{c}', '{a}',
    'operator reports {x} near the {c}', 'it looks like {x} again', 'no {x} on the {c} today',
    'the {c} needs to be checked for {x}', 'we found {x} and had to {a}', '{c} {x}',
    'the technician noticed {x} on the {c} during the inspection', 'after the shift the {c} was {x}',
]
NUMBERS = 'one two three four five six seven eight nine ten eleven twelve twenty forty'.split()
TIMES = ['this morning', 'yesterday', 'last week', 'monday', 'the night shift', 'noon']


def vocab_terms(path=os.path.join(REPO, 'vocab', 'mechanical-en.txt')):
    """The terms of a vocabulary file (lower case, attributes and comments dropped)."""
    terms = []
    if os.path.exists(path):
        for line in open(path, encoding='utf-8'):
            line = line.split('#', 1)[0].split('|', 1)[0].strip().lower()
            if line:
                terms.append(line)
    return terms


def general_sentences():
    """Transcripts of the real training speech, reused as text for TTS (every phone covered)."""
    rows = csv.DictReader(open(os.path.join(SHARED, 'train-speech', 'manifest.csv'), encoding='utf-8'))
    texts = sorted({r['text'] for r in rows if len(r['text'].split()) >= 4})
    return texts


def main(n_domain=4000, n_general=1500, seed=1):
    rng = random.Random(seed)
    out = ensure_dir(os.path.join(WORK, 'text'))
    comps = [c.strip() for c in COMPONENTS if c.strip()]
    conds = [c.strip() for c in CONDITIONS if c.strip()]
    acts = [a.strip() for a in ACTIONS if a.strip()]
    extra = vocab_terms()
    domain = []
    while len(domain) < n_domain:
        t = rng.choice(TEMPLATES)
        x = rng.choice(conds + extra) if rng.random() < 0.3 and extra else rng.choice(conds)
        s = t.format(c=rng.choice(comps), x=x, a=rng.choice(acts), n=rng.choice(NUMBERS), t=rng.choice(TIMES))
        if words_to_phones(s) is not None:
            domain.append(s)
    general = general_sentences()
    rng.shuffle(general)
    general = [s for s in general[:n_general] if words_to_phones(s) is not None]
    near = [s for s in NEAR_MISSES if words_to_phones(s) is not None]
    for name, lines in (('domain', domain), ('general', general), ('nearmiss', near)):
        with open(os.path.join(out, name + '.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
        print(f'{name}: {len(lines)} sentences')


if __name__ == '__main__':
    main()
