"""What the routes and the job worker do, one module per resource, scoped by workspace.

The engine is reached only through ``optimizer.planner`` (never a solver library), and every
failure a caller can fix is an ``HttpProblem`` naming the body field.
"""
