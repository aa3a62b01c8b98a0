"""Small descriptive statistics helpers."""


def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    return sum(values) / len(values)


def median(values):
    """Return the median of a non-empty list of numbers.

    For an odd number of values this is the middle one after sorting;
    for an even number it is the mean of the two middle values,
    e.g. median([4, 1, 3, 2]) == 2.5.
    """
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    if n % 2 == 1:
        return ordered[mid]
    # Even count: average the two values around the middle.
    return (ordered[mid] + ordered[mid + 1]) / 2


def spread(values):
    """Return max(values) - min(values) for a non-empty list of numbers."""
    return max(values) - min(values)
