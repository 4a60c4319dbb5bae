"""The probes' seeded draws are the TF.js engine's (src/engine/prng.ts)."""
from reglens.engine.probes.prng import derive_rng, mulberry32, sample_rows, shuffle

# Printed by the TS implementation (npx tsx, src/engine/prng.ts): mulberry32(42) x3,
# deriveRng(7, 'mc-sample') x2, shuffle(deriveRng(3, 'mc-sample'), 0..9),
# deriveRng(4294967295, 'mc-dropout') x1.
TS_MULBERRY_42 = [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]
TS_DERIVED_7 = [0.24277651263400912, 0.22795298579148948]
TS_SHUFFLE_3 = [3, 1, 7, 5, 0, 4, 8, 9, 6, 2]
TS_DERIVED_MAX = 0.8179662849288434


def test_streams_match_the_typescript_engine():
    m = mulberry32(42)
    assert [m(), m(), m()] == TS_MULBERRY_42
    d = derive_rng(7, "mc-sample")
    assert [d(), d()] == TS_DERIVED_7
    xs = list(range(10))
    shuffle(derive_rng(3, "mc-sample"), xs)
    assert xs == TS_SHUFFLE_3
    assert derive_rng(4294967295, "mc-dropout")() == TS_DERIVED_MAX


def test_sample_rows_is_a_sorted_seeded_subset():
    rows = sample_rows(3, "mc-sample", 10, 4)
    assert rows == sorted(TS_SHUFFLE_3[:4])
    assert sample_rows(3, "mc-sample", 10, 50) == list(range(10))
    assert sample_rows(4, "mc-sample", 1000, 100) != sample_rows(5, "mc-sample", 1000, 100)
