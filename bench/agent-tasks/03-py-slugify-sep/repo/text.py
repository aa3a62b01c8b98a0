"""Text helpers for building URLs."""
import re


def slugify(title):
    """Turn a title into a URL slug: lower case words joined by "-".

    Any character other than a letter or digit separates words and is dropped:
    slugify("Hello, World!") == "hello-world".
    """
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)


def truncate(text, limit):
    """Cut text to at most limit characters, ending with "..." if it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 3, 0)] + "..."
