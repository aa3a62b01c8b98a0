"""The plain-text stock report."""


def format_line(item):
    """One line of the report, e.g. "bolts: 12"."""
    return f"{item.name}: {item.quantity}"


def format_report(items):
    """The whole report: one line per item, sorted by name, low stock marked with "!"."""
    lines = []
    for item in sorted(items, key=lambda i: i.name):
        line = format_line(item)
        if item.is_low():
            line += " !"
        lines.append(line)
    return "\n".join(lines)
