"""Step 2 and 3: scenario -> problem -> solver -> verified spend (curves, programs, refinement,
checks, infeasibility analysis). Knows nothing of the command line, HTTP or files."""
