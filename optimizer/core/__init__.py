"""Step 2 and 3: scenario -> problem -> solver -> verified spend. Knows nothing of the command
line, HTTP or files.

- ``units`` (response units, spend bounds) and ``rows`` (objective and rule rows, over the
  linear forms of ``forms``) make the ``problem``; ``numbers`` checks that every number a
  solver gets is one it can take.
- ``curves`` and ``pwl`` turn the problem into piecewise-linear programs for a backend of
  ``solvers``; ``search`` runs the refinement rounds and ``engine`` the whole search, with a
  second opinion on an unproven "infeasible"; ``conflict`` proves one and ``diagnosis`` says
  how to relax it.
- ``dual`` is the exact method for separable concave problems (``lagrangian`` holds the
  Lagrangian over the coupling rows and minimises it); it proves its gap.
- ``nlp`` is the nonlinear method (and the polish of an lp plan); ``checks`` judges a spend
  on the true curves, whichever method found it; ``settle`` cleans the search's plan first.
"""
