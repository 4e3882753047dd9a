"""KOL catalog: profiles, platform accounts and their metric history, authenticity, search."""
