"""Activity log (seed 002 ``logs``): sign-ins and other events members can review."""
