"""Many plans at once: what-if sweeps, tornados and frontiers, comparisons, batch runs."""
