"""Customer service: the service strategy on record, the promises made to customers, and recovery when we
fall short ("recovery is our #1 priority"). See docs/customer-service.md.

- ``strategy``: the core service (what customers get) and the service experience (how they feel) as
  statements the front line sees; the exceptions front-line staff may grant without asking, with limits
  per role; the target times of recovery. Versioned: every change is a new version.
- ``promises``: what was promised to a customer, by whom, by when; kept or broken; the promise-kept rate.
- ``recovery``: recovery cases opened from complaint and return events or by hand, their actions (the
  exceptions granted, within the strategy's limits), resolution and the customer's verdict; the measures
  (time to recover, recovery rate, retention after recovery).
"""
