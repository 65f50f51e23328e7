"""A CDS Hooks service (ASGI, Starlette): EHR hook calls in, riskrules cards out.

The implementation is in :mod:`riskrules.ehr._service`; this module is its public face.
"""

from riskrules.ehr._service import (
    SERVICE_ID,
    ConfigError,
    ReplayCache,
    ServiceConfig,
    create_app,
    load_config,
)

__all__ = [
    "SERVICE_ID",
    "ConfigError",
    "ReplayCache",
    "ServiceConfig",
    "create_app",
    "load_config",
]
