"""The scheduling core: pure Python, no web, database or Kubernetes code.

Entry points (import them from their modules):

* :class:`app.scheduling.scheduler.Scheduler` - ``Scheduler(profile, policies).decide(snapshot,
  workload, now)`` returns an explained :class:`app.scheduling.decision.Decision`;
  ``feasible_clusters(...)`` gives the clusters a workload may use, ignoring capacity.
* :func:`app.scheduling.replay.replay` - re-decides a stored decision from its own snapshot.
* :mod:`app.scheduling.types` - the snapshots; :mod:`app.scheduling.cost` - the cost model.
"""
