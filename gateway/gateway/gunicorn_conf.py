"""gunicorn settings of the gateway: the services' (edu_common.gunicorn_conf: bind, JSON logs,
multiprocess metrics) with an asyncio worker on uvloop instead of threads."""

from edu_common import gunicorn_conf as shared
from edu_common.config import env_int
from edu_common.gunicorn_conf import *  # noqa: F403 - the shared settings, overridden below
from edu_common.gunicorn_conf import child_exit  # noqa: F401 - gunicorn's hook
from gateway.config import load

worker_class = "aiohttp.GunicornUVLoopWebWorker"
# One event loop per core; each worker keeps its own pools, buckets and breakers.
workers = env_int("WEB_CONCURRENCY", 2)
# Health checks of the worker process; requests themselves have their own deadlines.
timeout = 30
logconfig_dict["formatters"]["json"]["service"] = "gateway"  # noqa: F405


def on_starting(server):
    # Before any socket is bound or worker started: a ConfigError (bad settings, or development
    # defaults with EDU_ENV=production, refused by the shared settings loader) ends gunicorn
    # with "Error: ..." and exit status 1.
    load()
    shared.on_starting(server)
