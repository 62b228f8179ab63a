import math

import pytest

from ccd_mm.evaluation.paired_difference import (paired_difference,
                                                 student_t_quantile)

# Tolerances: a comparison that names none uses pytest.approx's or
# assert_close's default, which bounds the float32 rounding of a few
# operations against Python floats or the same float32 computation
# (tests/fixtures/tolerances.py).


@pytest.mark.parametrize('probability, dof, expected', [(0.975, 1, 12.7062),
                                                        (0.975, 4, 2.7764),
                                                        (0.975, 9, 2.2622),
                                                        (0.95, 4, 2.1318),
                                                        (0.975, 30, 2.0423)])
def test_t_quantiles_match_the_tables(probability, dof, expected):
    assert student_t_quantile(probability, dof) == pytest.approx(
        expected, abs=2e-4)


def test_paired_difference_by_hand():
    # differences 1, 2, 3, 4, 5: mean 3, sd sqrt(2.5), half-width
    # t(0.975, 4) * sqrt(2.5) / sqrt(5)
    result = paired_difference([11, 12, 13, 14, 15], [10] * 5)
    half = 2.7764 * math.sqrt(2.5) / math.sqrt(5)
    assert result['mean'] == 3 and result['n'] == 5
    assert result['std'] == pytest.approx(math.sqrt(2.5))
    # ``half`` comes from a t table printed to three decimals.
    assert result['low'] == pytest.approx(3 - half, abs=1e-3)
    assert result['high'] == pytest.approx(3 + half, abs=1e-3)


def test_pairing_removes_the_shared_seed_effect():
    # the seeds move both rows alike: the difference is exactly 1
    result = paired_difference([61, 66, 70], [60, 65, 69])
    assert result['low'] == result['high'] == result['mean'] == 1


def test_one_pair_has_no_interval_and_mismatch_is_an_error():
    result = paired_difference([2.0], [1.0])
    assert result['mean'] == 1 and math.isnan(result['low'])
    with pytest.raises(ValueError):
        paired_difference([1, 2], [1])
    with pytest.raises(ValueError):
        student_t_quantile(0.4, 3)
