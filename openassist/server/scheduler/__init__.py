"""A layer kept for server-side drivers of periodic work; it holds nothing today. Timed tasks run
on the agents (``service/timed.py`` hands them out), and the sweeps that end what never answered
are ``service/sweeps.py`` over the pure rules of ``lifecycle/sweeper.py``."""
