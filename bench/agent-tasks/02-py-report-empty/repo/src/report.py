"""Summaries of a day's orders for the shop's daily e-mail.

An order is a dict with at least "id" and "amount" (in cents).
"""


def total(orders):
    """Sum of the order amounts, in cents."""
    return sum(order["amount"] for order in orders)


def summarize(orders):
    """Return a dict with the count, total and average amount of the orders.

    All amounts are in cents; the average is rounded to the nearest cent.
    """
    count = len(orders)
    return {
        "count": count,
        "total": total(orders),
        "average": round(total(orders) / count),
    }
