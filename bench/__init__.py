"""banshui's benchmarks: ``make bench`` writes results/latest.json.

Scripts, not product: nothing under ``src/`` imports this package.
"""
