"""Routing's transitions, one module per concern, in layers that import only downwards:

- ``sweep``: the periodic clock and safety net, on top of everything;
- transitions: ``conversations`` (a contact's path to a queue), ``rounds`` (plan and claim
  offers), ``offers`` (accept, decline, time out), ``presence``, ``work`` (the agent's work on
  what they hold), ``transfers``, ``departures`` (a customer leaves), ``queue_limits``
  (overflow, maximum wait) and ``queueing`` (enqueue, priority);
- ``claims``: a round's database work;
- ``steps``: what several transitions share;
- ``triggers``: asking for rounds, at the bottom (every transition may ask for one).

The contract in pyproject.toml (import-linter) keeps it so.
"""
