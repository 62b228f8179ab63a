"""The mean paired difference of two rows of a measurement over seeds, with
its confidence interval (Student's t), for reports that compare methods."""
import math
from typing import Dict, Sequence


def student_t_quantile(probability: float, dof: int) -> float:
    """The ``probability`` quantile of Student's t with ``dof`` degrees of
    freedom (e.g. 2.776 for 0.975 and 4), for ``probability`` in (0.5, 1).

    The CDF is integrated numerically (Simpson's rule on the density) and
    inverted by bisection: accurate to about 1e-6, plenty for a CI.
    """
    if not 0.5 < probability < 1 or dof < 1:
        raise ValueError('need 0.5 < probability < 1 and dof >= 1')
    log_norm = (
        math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) -
        0.5 * math.log(dof * math.pi))

    def density(t):
        return math.exp(log_norm - (dof + 1) / 2 * math.log1p(t * t / dof))

    def cdf(x, steps=2000):
        width = x / steps
        total = density(0) + density(x)
        total += sum(
            (4 if k % 2 else 2) * density(k * width) for k in range(1, steps))
        return 0.5 + total * width / 3

    low, high = 0.0, 1.0
    while cdf(high) < probability:
        low, high = high, 2 * high
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < probability else (low,
                                                                      middle)
    return (low + high) / 2


def paired_difference(values: Sequence[float],
                      baseline: Sequence[float],
                      confidence: float = 0.95) -> Dict[str, float]:
    """Mean of ``values[i] - baseline[i]`` over paired runs (the same seed
    for both rows) and its two-sided confidence interval.

    Args:
        values (Sequence[float]): a row's measurement per seed.
        baseline (Sequence[float]): the baseline's, in the same seed order.
        confidence (float): coverage of the interval. Defaults to 0.95.

    Returns:
        dict: ``mean``, ``low``, ``high``, ``std`` (of the differences),
        ``n``; with one pair the interval is unknown (``low``/``high`` NaN).
    """
    if len(values) != len(baseline) or not values:
        raise ValueError('need the same, non-zero number of paired runs')
    differences = [a - b for a, b in zip(values, baseline)]
    count = len(differences)
    mean = sum(differences) / count
    if count == 1:
        return dict(mean=mean, low=math.nan, high=math.nan, std=math.nan, n=1)
    std = math.sqrt(sum((d - mean)**2 for d in differences) / (count - 1))
    half = student_t_quantile((1 + confidence) / 2, count - 1) * std / \
        math.sqrt(count)
    return dict(mean=mean, low=mean - half, high=mean + half, std=std, n=count)
