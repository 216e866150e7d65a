"""Many plans at once: what-if sweeps, tornados and frontiers, comparisons, batch runs.

``whatif`` computes the results typed in ``optimizer.results.whatif``, ``compare`` lines plans up
side by side, ``batch`` plans every scenario file of some folders, ``pool`` is the worker
processes both run on.
"""
