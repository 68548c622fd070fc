from __future__ import annotations

from hypothesis import HealthCheck, settings

# The translation properties must hold over many shapes of rule; 2,000
# examples each is the bar set for them (issue 3).
settings.register_profile(
    "translate-properties",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROPERTIES = settings.get_profile("translate-properties")
