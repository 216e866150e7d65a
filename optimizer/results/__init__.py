"""Step 4: the plan a user sees, recomputed on the true curves, and its one serialiser."""
