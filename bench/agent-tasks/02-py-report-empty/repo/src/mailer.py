"""The text of the daily e-mail."""

from report import summarize


def cents(amount):
    """Format an amount in cents as euros, e.g. 1234 -> "12.34 EUR"."""
    return f"{amount // 100}.{amount % 100:02d} EUR"


def daily_mail(day, orders):
    """The e-mail body for one day's orders."""
    s = summarize(orders)
    return (
        f"Orders on {day}: {s['count']}\n"
        f"Total: {cents(s['total'])}\n"
        f"Average order: {cents(s['average'])}\n"
    )
