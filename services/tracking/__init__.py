"""Tracking: each deal's link and its clicks, and the orders partners report back."""
