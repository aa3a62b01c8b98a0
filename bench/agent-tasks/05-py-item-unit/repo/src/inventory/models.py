"""Inventory records."""
from dataclasses import dataclass


@dataclass
class Item:
    """One stock line: a product name and how many of it we hold."""

    name: str
    quantity: int

    def is_low(self, threshold=5):
        """True when fewer than threshold are left."""
        return self.quantity < threshold
