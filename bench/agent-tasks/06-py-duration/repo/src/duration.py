"""Parse human durations like "1h30m" or "45s" into seconds."""
import re

_PART = re.compile(r"(\d+)([hms])")


def parse_duration(text):
    """Return the number of seconds in a duration such as "2h", "1h30m" or "90s".

    A duration is one or more <number><unit> parts with the units
    h (hours), m (minutes) and s (seconds). Raises ValueError on anything else.
    """
    text = text.strip()
    if not text or _PART.sub("", text):
        raise ValueError(f"not a duration: {text!r}")
    seconds = 0
    for number, unit in _PART.findall(text):
        n = int(number)
        if unit == "h":
            seconds += n * 3600
        elif unit == "s":
            seconds += n * 60
        else:
            seconds += n
    return seconds


def format_duration(seconds):
    """The inverse of parse_duration for whole seconds: 5400 -> "1h30m"."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "m"), (secs, "s")]
    return "".join(f"{n}{u}" for n, u in parts if n) or "0s"
