"""A CDS Hooks service (ASGI, Starlette): EHR hook calls in, riskrules cards out.

The implementation is in :mod:`riskrules.ehr._service` and the private modules beside it; this
module is its public face.
"""

from riskrules.ehr._auth import ALGORITHMS, CLOCK_SKEW
from riskrules.ehr._replay import (
    LocalReplayStore,
    ReplayCache,
    ReplayStore,
    SqliteReplayStore,
)
from riskrules.ehr._server import uvicorn_config
from riskrules.ehr._service import SERVICE_ID, create_app, discovery_document
from riskrules.ehr._serviceconfig import (
    ConfigFile,
    ServiceConfig,
    config_json_schema,
    load_config,
)
from riskrules.errors import ConfigError, ServiceRequestError

__all__ = [
    "ALGORITHMS",
    "CLOCK_SKEW",
    "SERVICE_ID",
    "ConfigError",
    "ConfigFile",
    "LocalReplayStore",
    "ReplayCache",
    "ReplayStore",
    "ServiceConfig",
    "ServiceRequestError",
    "SqliteReplayStore",
    "config_json_schema",
    "create_app",
    "discovery_document",
    "load_config",
    "uvicorn_config",
]
