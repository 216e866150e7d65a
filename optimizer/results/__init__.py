"""Step 4: the plan a user sees, recomputed on the true curves, and its one serialiser.

``plan`` holds the data types, ``build`` assembles a plan from a spend, ``rules`` re-checks each
rule at it, ``fingerprint`` records how it was made, ``serialise`` writes its bytes; ``whatif``
holds what-if results as data.
"""
