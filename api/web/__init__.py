"""The planner's web page and the front-end files the service serves itself."""
